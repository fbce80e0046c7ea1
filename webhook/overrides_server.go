package webhook

import (
	"context"
	"errors"
)

// withOverrides turns overrides on when the options ask for them: the
// directory is read once now (a directory that cannot be read is an error:
// the webhook does not start on a typo), Override objects are watched
// through the shared informers, and src's deciders apply what verifies.
func (s *Server) withOverrides(src Source) (Source, error) {
	o := s.opts
	if o.OverridesDir == "" && !o.OverrideObjects {
		return src, nil
	}
	s.ovs = NewOverrides(o.OverridesDir, NewOverrideMetrics(s.registry), s.log)
	if _, err := s.ovs.LoadDir(); err != nil {
		return nil, err
	}
	if o.OverrideObjects {
		if o.Informers == nil {
			return nil, errors.New("webhook: watching Override objects needs a cluster client (Informers)")
		}
		if err := s.ovs.WatchObjects(o.Informers); err != nil {
			return nil, err
		}
	}
	s.ovs.Refresh(src.Current())
	return s.ovs.Wrap(src), nil
}

// startOverrides starts the cluster watches and the overrides' watch, until
// ctx ends.
func (s *Server) startOverrides(ctx context.Context) {
	if s.opts.Informers != nil {
		s.opts.Informers.Start(ctx)
	}
	if s.ovs != nil {
		go s.ovs.Watch(ctx, s.holder, s.opts.ReloadInterval)
	}
}

// Overrides are the server's overrides, nil when off.
func (s *Server) Overrides() *Overrides { return s.ovs }
