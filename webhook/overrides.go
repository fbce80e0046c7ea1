package webhook

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/overrides"
	"github.com/prometheus/client_golang/prometheus"
)

// originCluster is the pool origin of the cluster's Override objects (a
// directory's is overrides.Dir.Origin).
const originCluster = "cluster"

// ignoredReasons are the values of charter_overrides_ignored's reason label:
// the checks of overrides.Verify, those between verified versions of one id
// (conflict, superseded: overrides.NewSet), and "error" for a document that
// could not be checked at all.
// Each is exported (at zero when none), so alerts work before the first.
var ignoredReasons = []overrides.Check{
	overrides.CheckMalformed, overrides.CheckCharter, overrides.CheckCouncil, overrides.CheckRevoked,
	overrides.CheckScope, overrides.CheckLifetime, overrides.CheckNotYetValid, overrides.CheckExpired,
	overrides.CheckApprovals, overrides.CheckConflict, overrides.CheckSuperseded, "error",
}

// OverrideMetrics count the overrides in force and those ignored, by the
// check they failed. (The denials they lift are counted by the handler:
// Metrics.OverrideLifted.)
type OverrideMetrics struct {
	Active  prometheus.Gauge
	Ignored *prometheus.GaugeVec
}

// NewOverrideMetrics creates the metrics and registers them on reg when reg
// is not nil.
func NewOverrideMetrics(reg prometheus.Registerer) *OverrideMetrics {
	m := &OverrideMetrics{
		Active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "charter_overrides_active",
			Help: "Verified overrides in force at the last verification.",
		}),
		Ignored: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "charter_overrides_ignored",
			Help: "Override documents and objects that do not count, by the check they failed (malformed, charter, council, revoked, scope, lifetime, not-yet-valid, expired, approvals, conflict, superseded, error).",
		}, []string{"reason"}),
	}
	for _, r := range ignoredReasons {
		m.Ignored.WithLabelValues(string(r))
	}
	if reg != nil {
		reg.MustRegister(m.Active, m.Ignored)
	}
	return m
}

// Overrides keeps the webhook's override documents (a directory, the
// cluster's Override objects) and decides every request with those the
// charter in force verifies. Verification runs on the watch goroutine
// (Watch), never on the admission path: it is redone when a document, the
// bundle or the clock (an override starting or expiring) may change it, and
// its outcome is swapped in atomically; a request only reads the verified
// set of the bundle it is decided with. A document that fails any check is
// logged, counted and lifts nothing.
type Overrides struct {
	pool    *overrides.Pool
	dir     *overrides.Dir // nil: no directory
	metrics *OverrideMetrics
	log     *slog.Logger

	// mu orders verifications (Refresh): the verifier of each bundle, the
	// prepared set and logged follow one another.
	mu       sync.Mutex
	verifier struct {
		bundle *bundles.Bundle
		v      *overrides.Verifier
		err    error
	}
	// logged is what was last logged per document (its source): "in force"
	// or the check it failed, so each change is logged once. Only report
	// touches it, under mu.
	logged map[string]string
	// prepared is the verified set last made, for the bundle it was made
	// for: all the admission path reads.
	prepared atomic.Pointer[preparedOverrides]
	// stale receives when a request met a bundle with no verified set yet.
	stale chan struct{}
}

type preparedOverrides struct {
	bundle *bundles.Bundle
	ev     *overrides.Evaluation // nil: the bundle's council does not load
	ov     *engine.Overrides     // nil: no override counts
}

// NewOverrides returns the overrides of dir ("" for none: only documents put
// into the pool count).
func NewOverrides(dir string, m *OverrideMetrics, log *slog.Logger) *Overrides {
	if m == nil {
		m = NewOverrideMetrics(nil)
	}
	if log == nil {
		log = slog.Default()
	}
	o := &Overrides{pool: overrides.NewPool(), metrics: m, log: log, logged: map[string]string{}, stale: make(chan struct{}, 1)}
	if dir != "" {
		o.dir = overrides.NewDir(dir)
	}
	o.pool.OnEvaluate = o.report
	return o
}

// Pool is where documents go.
func (o *Overrides) Pool() *overrides.Pool { return o.pool }

// report logs each change of a new verification and sets the metrics.
func (o *Overrides) report(ev *overrides.Evaluation) {
	o.metrics.Active.Set(float64(len(ev.Set)))
	counts := ev.IgnoredByCheck()
	for _, r := range ignoredReasons {
		o.metrics.Ignored.WithLabelValues(string(r)).Set(float64(counts[r]))
	}
	now := map[string]string{}
	for _, i := range ev.Ignored {
		key := "ignored " + i.Source
		now[key] = string(i.Check)
		if o.logged[key] != now[key] {
			o.log.Warn("override ignored: it lifts nothing", "source", i.Source, "id", i.ID, "check", string(i.Check), "err", i.Err.Error())
		}
	}
	for _, v := range ev.Set {
		key := "active " + v.ID
		now[key] = v.Scope.String()
		if o.logged[key] != now[key] {
			o.log.Info("override in force", "id", v.ID, "articles", v.Articles, "scope", v.Scope.String(),
				"approvals", len(v.Approvals), "expires", time.Unix(0, v.ExpiresNs).UTC())
		}
	}
	for key := range o.logged {
		if id, active := strings.CutPrefix(key, "active "); active && now[key] == "" {
			o.log.Info("override no longer in force", "id", id)
		}
	}
	o.logged = now
}

// verifierFor is the verifier of b's charter, made once per bundle; o.mu
// is held.
func (o *Overrides) verifierFor(b *bundles.Bundle) (*overrides.Verifier, error) {
	if o.verifier.bundle != b {
		o.verifier.bundle = b
		o.verifier.v, o.verifier.err = overrides.NewVerifier(b.Info)
		if o.verifier.err != nil {
			o.metrics.Active.Set(0)
			o.log.Error("the bundle's council does not load: no override counts", "revision", b.Revision(), "err", o.verifier.err)
		}
	}
	return o.verifier.v, o.verifier.err
}

// current is the verified set in force for b, prepared for the engine (nil:
// none). It never verifies: when b's set is not made yet (the bundle just
// changed), no override counts until the watch has made it, which this
// asks for at once.
func (o *Overrides) current(b *bundles.Bundle) *engine.Overrides {
	if b == nil {
		return nil
	}
	p := o.prepared.Load()
	if p == nil || p.bundle != b {
		select {
		case o.stale <- struct{}{}:
		default:
		}
		return nil
	}
	return p.ov
}

// Refresh verifies the documents against d's charter now, if anything
// changed, and puts the outcome in force, so decisions, logs and metrics
// follow documents, bundles and expiries. Only the watch (and the server
// before it serves) calls it.
func (o *Overrides) Refresh(d Decider) {
	c, ok := d.(catalogue)
	if !ok {
		return
	}
	b := c.Bundle()
	if b == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	v, err := o.verifierFor(b)
	if err != nil {
		o.prepared.Store(&preparedOverrides{bundle: b})
		return
	}
	ev := o.pool.Evaluate(v, time.Now())
	if p := o.prepared.Load(); p != nil && p.bundle == b && p.ev == ev {
		return
	}
	ov, err := engine.NewOverrides(ev.Set)
	if err != nil {
		o.log.Error("verified overrides not prepared: none counts", "err", err)
		ov = nil
	}
	o.prepared.Store(&preparedOverrides{bundle: b, ev: ev, ov: ov})
}

// next is when the clock alone may next change the set in force (an
// override starting or expiring); zero when never.
func (o *Overrides) next() time.Time {
	if p := o.prepared.Load(); p != nil && p.ev != nil {
		return p.ev.Until
	}
	return time.Time{}
}

// Wrap returns a Source whose deciders apply the verified overrides.
func (o *Overrides) Wrap(src Source) Source { return &overridingSource{src: src, o: o} }

type overridingSource struct {
	src Source
	o   *Overrides
}

func (s *overridingSource) Current() Decider {
	d := s.src.Current()
	if e, ok := d.(overridable); ok {
		return &overridingDecider{overridable: e, o: s.o}
	}
	return d
}

// overridable is a Decider that decides with overrides: an *engine.Engine,
// or one reading cluster data (clusterDecider).
type overridable interface {
	Decider
	catalogue
	DecideWith(ctx context.Context, input any, ov *engine.Overrides) (engine.Decision, error)
}

// overridingDecider decides with the engine and the overrides in force. It
// keeps the engine's Bundle and Revision, so operations, metrics and audit
// records see the bundle as before.
type overridingDecider struct {
	overridable
	o *Overrides
}

func (d *overridingDecider) Decide(ctx context.Context, input any) (engine.Decision, error) {
	return d.DecideWith(ctx, input, d.o.current(d.Bundle()))
}
