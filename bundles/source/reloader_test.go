package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/keys/keystest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func activateEngine(ctx context.Context, b *bundles.Bundle) (*engine.Engine, error) {
	return engine.New(ctx, b)
}

func newReloader(t *testing.T, src Source, state *State, v Verifier) (*Reloader[*engine.Engine], *Metrics) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	r, err := New(Config[*engine.Engine]{Source: src, Activate: activateEngine, Verify: v, State: state, Metrics: m, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return r, m
}

// TestReloaderKeepsTheGoodBundle offers a running reloader every kind of
// bad bundle in turn; each is refused with its own reason and message, and
// the good bundle stays in force.
func TestReloaderKeepsTheGoodBundle(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.tar.gz")
	good := release(t, 10, "")
	writeTarGz(t, p, good)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	m := NewMetrics(prometheus.NewRegistry())
	r, err := New(Config[*engine.Engine]{Source: &Local{Paths: []string{p}}, Activate: activateEngine, Verify: signedKeys(t),
		Metrics: m, Logger: quiet, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	goodRev := r.Current().Bundle.Revision()
	tampered := release(t, 11, "")
	tampered["charter/lib.rego"] = append(append([]byte(nil), tampered["charter/lib.rego"]...), "\n# changed\n"...)
	cases := []struct {
		name   string
		write  func()
		reason string
		msg    string
	}{
		{"tampered", func() { writeTarGz(t, p, tampered) }, ReasonUnverified, "bundle signature is invalid"},
		{"unsigned", func() { writeTarGz(t, p, release(t, 0, "")) }, ReasonUnverified, "unsigned"},
		{"signed by another key", func() { writeTarGz(t, p, otherKey(t, 14)) }, ReasonUnverified, "bundle signature is invalid"},
		{"older", func() { writeTarGz(t, p, release(t, 9, "")) }, ReasonRollback, "serial 9, lower than the active serial 10"},
		{"expired", func() { writeTarGz(t, p, release(t, 12, "2026-12-01T11:59:59Z")) }, ReasonExpired, "expired at 2026-12-01T11:59:59Z"},
		{"not a bundle", func() {
			if err := os.WriteFile(p, []byte("hello"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, ReasonInvalid, "not a gzip archive"},
		{"gone", func() {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}, ReasonFetch, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := testutil.ToFloat64(m.Rejections.WithLabelValues(tc.reason))
			tc.write()
			changed, err := r.Check(context.Background())
			if changed || err == nil || ReasonOf(err) != tc.reason || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Check = %v, %v (reason %q); want a %q rejection saying %q", changed, err, ReasonOf(err), tc.reason, tc.msg)
			}
			if got := testutil.ToFloat64(m.Rejections.WithLabelValues(tc.reason)); got != before+1 {
				t.Errorf("rejections{reason=%q} = %v, want %v", tc.reason, got, before+1)
			}
			if cur := r.Current(); cur.Bundle.Revision() != goodRev || cur.Release.Serial != 10 {
				t.Errorf("active = %s serial %d, want the good bundle", cur.Bundle.Revision(), cur.Release.Serial)
			}
			if changed, err := r.Check(context.Background()); changed || (err != nil && ReasonOf(err) != ReasonFetch) {
				t.Errorf("an unchanged bad bundle was tried again: %v, %v", changed, err)
			}
		})
	}
	writeTarGz(t, p, release(t, 13, "2027-01-01T00:00:00Z"))
	if changed, err := r.Check(context.Background()); !changed || err != nil {
		t.Fatalf("a newer good bundle: %v, %v", changed, err)
	}
	if got := testutil.ToFloat64(m.Serial); got != 13 {
		t.Errorf("serial gauge = %v", got)
	}
	if got := testutil.ToFloat64(m.Expires); got != float64(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("expiry gauge = %v", got)
	}
}

func TestReloaderEqualSerialSameBundleIsNoChange(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.tar.gz")
	writeTarGz(t, p, release(t, 5, ""))
	r, m := newReloader(t, &Local{Paths: []string{p}}, nil, signedKeys(t))
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	writeTarGz(t, p, release(t, 5, "")) // rewritten, same content
	if changed, err := r.Check(context.Background()); changed || err != nil {
		t.Fatalf("Check = %v, %v", changed, err)
	}
	if got := testutil.ToFloat64(m.Activations); got != 1 {
		t.Errorf("activations = %v, want 1", got)
	}
}

func TestStateDirRestartWithSourceDown(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.tar.gz")
	state := &State{Dir: filepath.Join(dir, "state")}
	writeTarGz(t, p, release(t, 7, ""))
	r, _ := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := r.Current().Bundle.Revision()
	entries, err := os.ReadDir(state.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "bundle.tar.gz,state.json" {
		t.Errorf("state directory holds %v (a temporary file left behind?)", names)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	restarted, _ := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
	err = restarted.Load(context.Background())
	if err == nil || ReasonOf(err) != ReasonFetch {
		t.Errorf("Load with the source gone = %v, want the fetch error", err)
	}
	cur := restarted.Current()
	if cur == nil || cur.Bundle.Revision() != want || cur.Release.Serial != 7 || !strings.HasPrefix(cur.From, "state directory") {
		t.Fatalf("after a restart with the source down: %+v", cur)
	}
}

func TestStateDirFloorSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.tar.gz")
	state := &State{Dir: filepath.Join(dir, "state")}
	writeTarGz(t, p, release(t, 7, ""))
	r, _ := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The source now serves an older signed bundle, and the process restarts.
	writeTarGz(t, p, release(t, 6, ""))
	restarted, m := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
	err := restarted.Load(context.Background())
	if ReasonOf(err) != ReasonRollback || !strings.Contains(err.Error(), "lower than the persisted serial 7") {
		t.Fatalf("Load = %v, want a rollback refusal", err)
	}
	if got := testutil.ToFloat64(m.Rejections.WithLabelValues(ReasonRollback)); got != 1 {
		t.Errorf("rollback rejections = %v", got)
	}
	if cur := restarted.Current(); cur == nil || cur.Release.Serial != 7 {
		t.Fatalf("the persisted serial-7 bundle should enforce, got %+v", cur)
	}
	if floor, err := state.Floor(); err != nil || floor != 7 {
		t.Errorf("floor = %d, %v", floor, err)
	}
	if err := state.Save(release(t, 3, ""), 3, "x"); err == nil {
		t.Error("the state accepted a lower serial")
	}
}

func TestNoGoodBundleIsNotReady(t *testing.T) {
	dir := t.TempDir()
	state := &State{Dir: filepath.Join(dir, "state")}
	for _, tc := range []struct {
		name  string
		setup func(p string)
	}{
		{"source missing, state empty", func(string) {}},
		{"only an unsigned bundle", func(p string) { writeTarGz(t, p, release(t, 0, "")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "b.tar.gz")
			tc.setup(p)
			r, _ := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
			if err := r.Load(context.Background()); err == nil || r.Ready() || r.Current() != nil {
				t.Fatalf("Load = %v, ready %v", err, r.Ready())
			}
		})
	}
}

func TestStateDirExpiredBundleNotRevived(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.tar.gz")
	state := &State{Dir: filepath.Join(dir, "state")}
	writeTarGz(t, p, release(t, 7, "2026-12-01T13:00:00Z"))
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cfg := Config[*engine.Engine]{Source: &Local{Paths: []string{p}}, Activate: activateEngine, Verify: signedKeys(t),
		State: state, Logger: quiet, Now: func() time.Time { return now }}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	restarted, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Load(context.Background()); err == nil || restarted.Ready() {
		t.Fatalf("an expired persisted bundle came back: %v", err)
	}
}

func TestCharterIncludesAreWatched(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "lib", "sub.yaml")
	top := filepath.Join(dir, "top.yaml")
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+".tmp", []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			t.Fatal(err)
		}
	}
	const header = "apiVersion: charter.dev/v1\nkind: Charter\n"
	article := func(id string) string {
		return "  - id: " + id + "\n    title: t\n    match: {kinds: [Pod]}\n    violation: {path: pod.spec.hostNetwork, op: equals, value: true}\n    message: m\n"
	}
	write(sub, header+"metadata: {name: sub}\nspec:\n  articles:\n"+article("SUB-1"))
	write(top, header+"metadata: {name: top}\nspec:\n  include: [lib/sub.yaml]\n  articles:\n"+article("TOP-1"))
	r, _ := newReloader(t, Charters([]string{top}), nil, nil)
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	first := r.Current().Bundle.Revision()
	if changed, err := r.Check(context.Background()); changed || err != nil {
		t.Fatalf("unchanged charter: %v, %v", changed, err)
	}
	write(sub, header+"metadata: {name: sub}\nspec:\n  articles:\n"+article("SUB-1")+article("SUB-2"))
	changed, err := r.Check(context.Background())
	if !changed || err != nil || r.Current().Bundle.Revision() == first {
		t.Fatalf("a change in an included charter (outside the top charter's directory tree walk) was not reloaded: %v, %v", changed, err)
	}
	if r.Current().Charter == nil || len(r.Current().Charter.Spec.Articles) != 3 {
		t.Errorf("charter = %+v", r.Current().Charter)
	}
}

func otherKey(t *testing.T, serial int64) bundles.Files {
	t.Helper()
	b, _, err := bundles.FromCharters([]string{testCharter})
	if err != nil {
		t.Fatal(err)
	}
	files, err := bundles.Sign(b.Files, keystest.New(t), bundles.Release{Serial: serial})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
