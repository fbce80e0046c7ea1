package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/overrides"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/util"
)

// overridesPath is where verified overrides sit in OPA's store
// (data.charter_overrides), a root the charter bundle claims.
var overridesPath = storage.Path{compiler.OverridesRoot}

// overrideState is the verified overrides in force with one bundle: the
// evaluation they came from and the set the native path decides with. The
// store holds the same set at data.charter_overrides.
type overrideState struct {
	ev *overrides.Evaluation
	ov *engine.Overrides
}

// overridesOf returns the overrides the native path applies for a, nil
// when none are configured.
func (a *active) overridesOf() *engine.Overrides {
	if st := a.ovs.Load(); st != nil {
		return st.ov
	}
	return nil
}

// verifyOverrides verifies the pool's documents against a's council at now.
func (p *Plugin) verifyOverrides(a *active, now time.Time) (*overrideState, error) {
	ev := p.ovPool.Evaluate(a.verifier, now)
	if cur := a.ovs.Load(); cur != nil && cur.ev == ev {
		return cur, nil
	}
	ov, err := engine.NewOverrides(ev.Set)
	if err != nil {
		return nil, err
	}
	return &overrideState{ev: ev, ov: ov}, nil
}

// writeOverrides puts the verified set at data.charter_overrides in txn:
// the plugin's own store transaction, never the REST API (which refuses
// writes to a root the bundle claims).
func (p *Plugin) writeOverrides(ctx context.Context, txn storage.Transaction, st *overrideState) error {
	var doc any = st.ev.Set.Data()
	if err := util.RoundTrip(&doc); err != nil {
		return fmt.Errorf("encode verified overrides: %w", err)
	}
	if err := p.m.Store.Write(ctx, txn, storage.AddOp, overridesPath, doc); err != nil {
		return fmt.Errorf("write verified overrides into OPA's store: %w", err)
	}
	return nil
}

// refreshOverrides reads the overrides directory again and, when the
// verified set of the bundle in force changed (a document, or the clock
// past a window edge), writes it into the store and hands it to the native
// path. It returns how long to wait before the next refresh.
func (p *Plugin) refreshOverrides(ctx context.Context, now time.Time) time.Duration {
	wait := p.cfg.cfg.poll
	if changed, err := p.ovDir.Reload(p.ovPool); err != nil {
		p.log.Error("overrides directory not read: none of its overrides counts until it is", "dir", p.ovDir.Path, "err", err)
	} else if changed {
		p.log.Info("overrides directory changed", "dir", p.ovDir.Path)
	}
	p.ovMu.Lock()
	defer p.ovMu.Unlock()
	a := p.latest
	if a == nil {
		return wait
	}
	cur := a.ovs.Load()
	st, err := p.verifyOverrides(a, now)
	if err != nil {
		p.log.Error("verified overrides not applied; the set in force stays", "err", err)
		return wait
	}
	if st != cur {
		params := storage.WriteParams
		err := storage.Txn(ctx, p.m.Store, params, func(txn storage.Transaction) error {
			return p.writeOverrides(ctx, txn, st)
		})
		if err != nil {
			p.log.Error("verified overrides not applied; the set in force stays", "err", err)
			return wait
		}
		a.ovs.Store(st)
	}
	if u := st.ev.Until; !u.IsZero() && u.Sub(now) < wait {
		wait = max(u.Sub(now), 10*time.Millisecond)
	}
	return wait
}

// watchOverrides refreshes the overrides until ctx ends: every poll
// interval, and when an override starts or expires.
func (p *Plugin) watchOverrides(ctx context.Context) {
	for {
		t := time.NewTimer(p.refreshOverrides(ctx, time.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// reportOverrides logs each new verification: how many count, and every
// document that does not, with the check it failed.
func (p *Plugin) reportOverrides(ev *overrides.Evaluation) {
	for _, i := range ev.Ignored {
		p.log.Warn("override ignored", "check", string(i.Check), "source", i.Source, "id", i.ID, "err", i.Err)
	}
	ids := make([]string, len(ev.Set))
	for i, v := range ev.Set {
		ids[i] = v.ID
	}
	p.log.Info("overrides verified", "active", ids, "ignored", len(ev.Ignored))
}
