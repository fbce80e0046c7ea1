package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/source"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/overrides"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/plugins"
	"github.com/open-policy-agent/opa/v1/plugins/logs"
	"github.com/open-policy-agent/opa/v1/storage"
)

// maxBackoff bounds the wait between polls of a failing remote source.
const maxBackoff = 5 * time.Minute

// Plugin is the charter plugin of one OPA runtime.
type Plugin struct {
	m   *plugins.Manager
	log *slog.Logger
	cfg validated

	reloader *source.Reloader[*active]
	sink     audit.Sink
	close    func() error
	// routed: OPA's decision-log plugin hands its events to this plugin
	// (decision_logs.plugin: charter), which audits them; alone: and sends
	// them nowhere else, so the native path may audit directly.
	routed, alone bool

	// ovDir and ovPool are plugins.charter.overrides (nil without it).
	// ovMu orders the writes of data.charter_overrides: a bundle's
	// activation and the refreshes of its verified overrides; latest is the
	// bundle activated last, the one OPA's store holds.
	ovDir  *overrides.Dir
	ovPool *overrides.Pool
	ovMu   sync.Mutex
	latest *active

	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan struct{}
}

// active is the bundle in force in OPA's store, and its engine.
type active struct {
	engine *engine.Engine
	native bool // the native path answers exactly as OPA's evaluation of the store would
	bundle audit.Bundle
	// verifier checks overrides against this bundle's council; ovs is the
	// verified set in force with it (nil without plugins.charter.overrides).
	verifier *overrides.Verifier
	ovs      atomic.Pointer[overrideState]
}

// Start opens the audit log, loads the bundle and starts polling its source.
// A local bundle that fails any check stops OPA from starting; a remote one
// that is down leaves the plugin NOT_READY until it comes back.
func (p *Plugin) Start(ctx context.Context) error {
	cfg := p.cfg.cfg
	sink, closeSink, err := openAudit(cfg.AuditLog, cfg.AuditSync)
	if err != nil {
		return fmt.Errorf("plugins.%s.audit_log: %w", Name, err)
	}
	p.sink, p.close = sink, closeSink
	if err := p.readDecisionLogs(); err != nil {
		return err
	}
	if cfg.Overrides != "" {
		p.ovDir, p.ovPool = overrides.NewDir(cfg.Overrides), overrides.NewPool()
		p.ovPool.OnEvaluate = p.reportOverrides
		if _, err := p.ovDir.Reload(p.ovPool); err != nil {
			_ = p.close()
			return fmt.Errorf("plugins.%s.overrides: %w", Name, err)
		}
	}
	src, err := source.Open(cfg.Bundle, source.Options{})
	if err != nil {
		return fmt.Errorf("plugins.%s.bundle: %w", Name, err)
	}
	var state *source.State
	if cfg.StateDir != "" {
		state = &source.State{Dir: cfg.StateDir}
	}
	p.reloader, err = source.New(source.Config[*active]{
		Source:   src,
		Activate: p.activate,
		Verify:   p.cfg.verify,
		State:    state,
		Logger:   p.log,
		Metrics:  source.NewMetrics(p.m.PrometheusRegister()),
		OnChange: func(a *source.Active[*active]) {
			p.m.UpdatePluginStatus(Name, &plugins.Status{State: plugins.StateOK, Message: "revision " + a.Bundle.Revision()})
		},
		OnReject: func(reason string, err error) {
			if p.reloader != nil && p.reloader.Ready() {
				return // the last good bundle keeps enforcing: still OK
			}
			p.m.UpdatePluginStatus(Name, &plugins.Status{State: plugins.StateErr, Message: reason + ": " + err.Error()})
		},
	})
	if err != nil {
		return fmt.Errorf("plugins.%s: %w", Name, err)
	}
	if err := p.reloader.Load(ctx); err != nil && !p.reloader.Ready() && !src.Remote() {
		_ = p.close()
		return fmt.Errorf("plugins.%s: %w", Name, err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		if p.ovDir == nil {
			p.reloader.Run(rctx, cfg.poll, maxBackoff)
			return
		}
		var wg sync.WaitGroup
		wg.Go(func() { p.watchOverrides(rctx) })
		p.reloader.Run(rctx, cfg.poll, maxBackoff)
		wg.Wait()
	}()
	return nil
}

// Stop stops polling and closes the audit log.
func (p *Plugin) Stop(context.Context) {
	p.stopOnce.Do(func() {
		if p.cancel != nil {
			p.cancel()
			<-p.done
		}
		if p.close != nil {
			if err := p.close(); err != nil {
				p.log.Error("close the audit log", "err", err)
			}
		}
		p.m.UpdatePluginStatus(Name, &plugins.Status{State: plugins.StateNotReady})
	})
}

// Reconfigure is refused: the loader's rollback floor and the audit log do
// not move at runtime. A new plugins.charter takes a restart.
func (p *Plugin) Reconfigure(context.Context, any) {
	p.log.Warn("plugins." + Name + " changed: restart OPA to apply it; the running configuration stays in force")
}

// current is the bundle in force, nil before the first activation.
func (p *Plugin) current() *active {
	if p.reloader == nil {
		return nil
	}
	if a := p.reloader.Current(); a != nil {
		return a.Value
	}
	return nil
}

// readDecisionLogs learns where OPA's decision-log plugin sends events.
func (p *Plugin) readDecisionLogs() error {
	raw := p.m.Config.DecisionLogs
	if len(raw) == 0 || logs.Lookup(p.m) == nil {
		return nil
	}
	var dl decisionLogs
	if err := json.Unmarshal(raw, &dl); err != nil {
		return fmt.Errorf("plugins.%s: read decision_logs: %w", Name, err)
	}
	p.routed = dl.Plugin == Name
	p.alone = p.routed && dl.Service == "" && !dl.Console
	return nil
}

// activate prepares the engine and writes the verified bundle into OPA's
// store in one transaction, as OPA's bundle plugin would; an error refuses
// the bundle and leaves the store as it was.
func (p *Plugin) activate(ctx context.Context, b *bundles.Bundle) (*active, error) {
	e, err := engine.New(ctx, b)
	if err != nil {
		return nil, err
	}
	a := &active{
		engine: e,
		native: p.cfg.cfg.Native() && e.FullyNative(),
		bundle: audit.BundleOf(b.Revision(), b.Manifest.Metadata),
	}
	// The overrides are verified under ovMu, so a directory reload between
	// this verification and the activation below cannot be undone by an
	// older snapshot.
	p.ovMu.Lock()
	defer p.ovMu.Unlock()
	var ovs *overrideState
	if p.ovPool != nil {
		if a.verifier, err = overrides.NewVerifier(b.Info); err != nil {
			return nil, fmt.Errorf("the bundle's council: %w", err)
		}
		if ovs, err = p.verifyOverrides(a, time.Now()); err != nil {
			return nil, err
		}
	}
	opaBundle := claimOverridesRoot(b.OPA)
	params := storage.WriteParams
	params.Context = storage.NewContext()
	err = storage.Txn(ctx, p.m.Store, params, func(txn storage.Transaction) error {
		if err := p.checkRoots(ctx, txn); err != nil {
			return err
		}
		compiler := ast.NewCompiler().
			WithPathConflictsCheck(storage.NonEmpty(ctx, p.m.Store, txn)).
			WithEnablePrintStatements(p.m.EnablePrintStatements())
		if opaBundle.Manifest.Roots != nil {
			compiler = compiler.WithPathConflictsCheckRoots(*opaBundle.Manifest.Roots)
		}
		err := bundle.Activate(&bundle.ActivateOpts{
			Ctx: ctx, Store: p.m.Store, Txn: txn, TxnCtx: params.Context, Compiler: compiler,
			Metrics: metrics.New(), Bundles: map[string]*bundle.Bundle{Name: opaBundle},
			ExternalSources: p.m.GetExternalSources(), ParserOptions: p.m.ParserOptions(),
		})
		plugins.SetCompilerOnContext(params.Context, compiler)
		if err != nil || ovs == nil {
			return err
		}
		// Activation erased the overrides root with the bundle's other
		// roots; the set verified against this bundle's council goes back
		// in the same transaction, so no decision sees the bundle without it.
		return p.writeOverrides(ctx, txn, ovs)
	})
	if err != nil {
		return nil, fmt.Errorf("activate in OPA's store: %w", err)
	}
	a.ovs.Store(ovs)
	p.latest = a
	return a, nil
}

// claimOverridesRoot returns the bundle as OPA's store gets it: its
// manifest claims data.charter_overrides beside its own roots (bundles built
// before the compiler claimed it too), so OPA refuses writes there through
// its REST API and only this plugin, with verified overrides, fills it.
func claimOverridesRoot(b *bundle.Bundle) *bundle.Bundle {
	if b.Manifest.Roots == nil || slices.Contains(*b.Manifest.Roots, compiler.OverridesRoot) {
		return b
	}
	out := *b
	roots := append(slices.Clone(*b.Manifest.Roots), compiler.OverridesRoot)
	out.Manifest.Roots = &roots
	return &out
}

// errForeignRoot: another bundle in OPA's store claims data.charter or
// data.charter_overrides.
var errForeignRoot = errors.New("foreign bundle under data.charter")

// checkRoots refuses to share data.charter or data.charter_overrides with a
// bundle OPA loaded itself (--bundle, bundles:): its decisions, or its
// overrides, would bypass the signature, rollback and council checks. OPA
// refuses overlapping roots too; this names the remedy.
func (p *Plugin) checkRoots(ctx context.Context, txn storage.Transaction) error {
	names, err := bundle.ReadBundleNamesFromStore(ctx, p.m.Store, txn)
	if err != nil && !storage.IsNotFound(err) {
		return err
	}
	for _, n := range names {
		if n == Name {
			continue
		}
		roots, err := bundle.ReadBundleRootsFromStore(ctx, p.m.Store, txn, n)
		if err != nil && !storage.IsNotFound(err) {
			return err
		}
		for _, r := range roots {
			if ownedRoot(r) {
				return fmt.Errorf("%w: bundle %q (root %q) was loaded by OPA itself, unverified by charter: give it to plugins.%s.bundle instead", errForeignRoot, n, r, Name)
			}
		}
	}
	return nil
}

// ownedRoot reports whether a bundle root overlaps the roots the charter
// bundle claims (data.charter, data.charter_overrides).
func ownedRoot(r string) bool {
	for _, own := range []string{"charter", compiler.OverridesRoot} {
		if r == "" || r == own || strings.HasPrefix(r, own+"/") {
			return true
		}
	}
	return false
}
