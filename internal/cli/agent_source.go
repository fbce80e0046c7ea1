//go:build linux

package cli

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/charter-dev/charter/agent"
	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/source"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	"github.com/prometheus/client_golang/prometheus"
)

// ruleSource gives the agent its rules and engine through the one loader
// and reload mechanism: the agent's reload tick asks, and the reloader
// fetches only what changed (file fingerprints, ETags), checks it, and keeps
// the last good bundle when a new one fails.
func (o *loaderOptions) ruleSource(ctx context.Context, p policyOptions, reg prometheus.Registerer, log *slog.Logger) (*reloaderRules, error) {
	src, err := p.policySource()
	if err != nil {
		return nil, err
	}
	verify, err := p.verifier()
	if err != nil {
		return nil, err
	}
	cfg := source.Config[*engine.Engine]{
		Source:   src,
		Activate: func(ctx context.Context, b *bundles.Bundle) (*engine.Engine, error) { return engine.New(ctx, b) },
		Verify:   verify,
		Metrics:  source.NewMetrics(reg),
		Logger:   log,
	}
	if o.StateDir != "" {
		cfg.State = &source.State{Dir: o.StateDir}
	}
	r, err := source.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := r.Load(ctx); err != nil && !r.Ready() {
		return nil, err
	}
	return &reloaderRules{r: r, every: o.PollInterval, last: time.Now()}, nil
}

// reloaderRules is an agent.RuleSource and agent.EngineSource over a Reloader.
type reloaderRules struct {
	r     *source.Reloader[*engine.Engine]
	every time.Duration // 0: check on every agent tick

	mu   sync.Mutex
	last time.Time
}

var (
	_ agent.RuleSource   = (*reloaderRules)(nil)
	_ agent.EngineSource = (*reloaderRules)(nil)
	_ agent.InfoSource   = (*reloaderRules)(nil)
)

// Info is the compiled charter info of the bundle in force: its council
// verifies the agent's overrides.
func (s *reloaderRules) Info() (compiler.Info, error) {
	a := s.r.Current()
	if a == nil {
		return compiler.Info{}, fmt.Errorf("no bundle from %s is in force", s.r.Source())
	}
	return a.Bundle.Info, nil
}

// Rules checks the source (at most every poll interval) and returns the
// runtime rules of the bundle in force. A refused bundle was logged and
// counted by the reloader; the rules in force stay.
func (s *reloaderRules) Rules() ([]agent.Rule, error) {
	s.mu.Lock()
	due := time.Since(s.last) >= s.every
	if due {
		s.last = time.Now()
	}
	s.mu.Unlock()
	if due {
		_, _ = s.r.Check(context.Background())
	}
	a := s.r.Current()
	if a == nil {
		return nil, fmt.Errorf("no bundle from %s is in force", s.r.Source())
	}
	return agent.RulesFromInfo(a.Bundle.Info), nil
}

// Engine is the engine of the bundle in force.
func (s *reloaderRules) Engine(context.Context) (*engine.Engine, error) {
	a := s.r.Current()
	if a == nil {
		return nil, fmt.Errorf("no bundle from %s is in force", s.r.Source())
	}
	return a.Value, nil
}

func (s *reloaderRules) String() string { return s.r.Source().String() }
