package webhook

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-dev/charter/overrides"
	"github.com/charter-dev/charter/overrides/overridestest"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// watchedOverrides is a Holder over c's charter and its Overrides, whose
// watch runs until the test ends; interval is its poll (long: only pool
// changes and window edges wake it).
func watchedOverrides(t *testing.T, c *overridestest.Council, before func(o *Overrides), interval time.Duration) (*Overrides, *Holder) {
	t.Helper()
	h := NewHolder(c.Charter, HolderOptions{Logger: quiet})
	if err := h.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	o := NewOverrides("", nil, quiet)
	if before != nil {
		before(o)
	}
	o.Refresh(h.Current()) // as the server does before it serves
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.Watch(ctx, h, interval)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return o, h
}

// TestOverridesFloodOffAdmissionPath: a flood of new Override objects is
// verified by the watch, never by admission requests. While the watch is
// held inside a verification (as a long flood holds it), requests are
// decided at once with the set verified before, and the flood counts once
// its verification is done.
func TestOverridesFloodOffAdmissionPath(t *testing.T) {
	c := overridestest.New(t, t.TempDir(), overridestest.Options{})
	expires := time.Now().Add(30 * time.Minute)
	gate := make(chan struct{})
	var gated atomic.Bool
	var evaluations atomic.Int32
	o, h := watchedOverrides(t, c, func(o *Overrides) {
		o.pool.Put(originCluster, overrides.Entry{Source: "Override debug-web", Doc: c.Override(t, overridestest.Request{ID: "debug-web", Expires: expires}, "alice", "bob")})
		report := o.pool.OnEvaluate
		o.pool.OnEvaluate = func(ev *overrides.Evaluation) {
			evaluations.Add(1)
			if gated.Load() {
				<-gate
			}
			report(ev)
		}
	}, time.Hour)
	eventually(t, "debug-web is verified", func() bool { return testutil.ToFloat64(o.metrics.Active) == 1 })
	t.Cleanup(func() {
		if gated.Load() {
			close(gate)
		}
	})
	gated.Store(true)
	held := evaluations.Load()

	const flood = 40
	docs := make([]*overrides.Document, flood)
	for i := range docs {
		docs[i] = c.Override(t, overridestest.Request{ID: fmt.Sprintf("flood-%d", i), Expires: expires}, "alice", "carol")
	}
	for i, d := range docs {
		o.pool.Put(originCluster, overrides.Entry{Source: fmt.Sprintf("Override flood-%d", i), Doc: d})
	}
	handler := NewHandler(HandlerOptions{Source: o.Wrap(h), Timeout: 5 * time.Second, Logger: quiet})
	body := mustJSON(t, review("CREATE", webPod()))
	for i := range 20 {
		r := decodeResponse(t, post(handler, "application/json", body))
		if !r.Allowed {
			t.Fatalf("request %d during the flood's verification: %v (it waited for the verification)", i, r.Result)
		}
	}
	eventually(t, "the watch is inside the flood's verification", func() bool { return evaluations.Load() > held })
	if got := evaluations.Load(); got != held+1 {
		t.Errorf("%d verifications since the flood, want the watch's 1", got-held)
	}
	gated.Store(false)
	close(gate)
	eventually(t, "the flood is verified by the watch", func() bool {
		return testutil.ToFloat64(o.metrics.Active) == flood+1
	})
}

// TestOverridesWindowEdgesWithoutRequests: an override that starts in a
// moment comes into force, and one that expires leaves it, with no request
// and no poll: the watch wakes at each window edge.
func TestOverridesWindowEdgesWithoutRequests(t *testing.T) {
	c := overridestest.New(t, t.TempDir(), overridestest.Options{})
	starts := time.Now().Add(2 * time.Second)
	d := c.Override(t, overridestest.Request{ID: "later", NotBefore: starts, Expires: starts.Add(2 * time.Second)}, "alice", "bob")
	o, _ := watchedOverrides(t, c, func(o *Overrides) {
		o.pool.Put(originCluster, overrides.Entry{Source: "Override later", Doc: d})
	}, time.Hour)
	ignored := func(check overrides.Check) float64 {
		return testutil.ToFloat64(o.metrics.Ignored.WithLabelValues(string(check)))
	}
	// Verified once before the watch starts: not yet valid, unless this
	// machine took the two seconds to get here.
	if early := ignored(overrides.CheckNotYetValid); time.Now().Before(starts) && early != 1 {
		t.Errorf("before notBefore: %v counted as not yet valid, want 1", early)
	}
	eventually(t, "the override is in force at notBefore", func() bool { return testutil.ToFloat64(o.metrics.Active) == 1 })
	if time.Now().Before(starts) {
		t.Errorf("in force before notBefore %s", starts)
	}
	eventually(t, "the override is counted as expired", func() bool {
		return ignored(overrides.CheckExpired) == 1 && testutil.ToFloat64(o.metrics.Active) == 0
	})
}

// TestOverridesNewBundleNeverStale: a new bundle that revokes an override
// is never decided with the overrides verified for the bundle before it.
// The first request after the swap lifts nothing (fail closed) and wakes
// the watch, which verifies the pool against the new council at once.
func TestOverridesNewBundleNeverStale(t *testing.T) {
	c := overridestest.New(t, t.TempDir(), overridestest.Options{})
	o, h := watchedOverrides(t, c, func(o *Overrides) {
		o.pool.Put(originCluster, overrides.Entry{Source: "Override debug-web", Doc: c.Override(t, overridestest.Request{}, "alice", "bob")})
	}, time.Hour)
	handler := NewHandler(HandlerOptions{Source: o.Wrap(h), Logger: quiet})
	body := mustJSON(t, review("CREATE", webPod()))
	allowed := func() bool { return decodeResponse(t, post(handler, "application/json", body)).Allowed }
	if !allowed() {
		t.Fatal("the verified override does not admit the pod")
	}
	data, err := os.ReadFile(c.Charter)
	if err != nil {
		t.Fatal(err)
	}
	revoking := strings.Replace(string(data), "carol.pub]", "carol.pub], revoked: [debug-web]", 1)
	if revoking == string(data) {
		t.Fatal("the council line of the charter was not found")
	}
	overridestest.WriteFile(t, c.Charter, []byte(revoking))
	if changed, err := h.Reload(t.Context()); err != nil || !changed {
		t.Fatalf("Reload = %v, %v; want the revoking bundle in force", changed, err)
	}
	if allowed() {
		t.Fatal("the first request under the revoking bundle was admitted by the overrides of the bundle before")
	}
	eventually(t, "the watch verifies the pool against the new bundle without waiting for its poll", func() bool {
		return testutil.ToFloat64(o.metrics.Ignored.WithLabelValues(string(overrides.CheckRevoked))) == 1 &&
			testutil.ToFloat64(o.metrics.Active) == 0
	})
	if allowed() {
		t.Error("a revoked override admits")
	}
}
