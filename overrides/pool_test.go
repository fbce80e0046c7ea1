package overrides

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPool: the evaluation is reused until a document or the charter
// changes or the clock crosses a window edge; every ignored override names
// its failed check.
func TestPool(t *testing.T) {
	c := newCustodians(t)
	v, err := NewVerifier(c.info(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, d *Document) {
		data, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	write("valid.yaml", sign(t, request(), c.alice, c.bob))
	write("under.yaml", sign(t, func() *Document { d := request(); d.Metadata.Name = "under"; return d }(), c.alice))
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not read"), 0o644)
	entries, err := ReadDir(dir)
	if err != nil || len(entries) != 3 {
		t.Fatalf("ReadDir = %d entries, %v", len(entries), err)
	}
	p := NewPool()
	evaluations := 0
	p.OnEvaluate = func(*Evaluation) { evaluations++ }
	p.Replace("dir", entries)
	ev := p.Evaluate(v, t0.Add(time.Minute))
	if len(ev.Set) != 1 || ev.Set[0].ID != "debug-web-1" || !ev.Until.Equal(t0.Add(time.Hour)) {
		t.Fatalf("evaluation: set %v, until %v", ev.Set, ev.Until)
	}
	got := ev.IgnoredByCheck()
	if got[CheckApprovals] != 1 || got[CheckMalformed] != 1 || len(ev.Ignored) != 2 {
		t.Errorf("ignored = %+v", ev.Ignored)
	}
	if p.Evaluate(v, t0.Add(2*time.Minute)) != ev || evaluations != 1 {
		t.Error("an unchanged pool was evaluated again")
	}
	late := p.Evaluate(v, t0.Add(time.Hour))
	if len(late.Set) != 0 || late.IgnoredByCheck()[CheckExpired] != 2 || evaluations != 2 {
		t.Errorf("after expiry: set %v, ignored %+v", late.Set, late.Ignored)
	}
	p.Delete("dir", filepath.Join(dir, "valid.yaml"))
	if ev := p.Evaluate(v, t0.Add(time.Hour)); len(ev.Ignored) != 2 || evaluations != 3 {
		t.Errorf("after delete: %+v", ev.Ignored)
	}
	// Two verified overrides with one id that say different things: neither counts.
	other := sign(t, func() *Document { d := request(); d.Spec.Reason = "other"; return d }(), c.alice, c.bob)
	p.Put("crd", Entry{Source: "shop/debug-web-1", Doc: other})
	p.Put("dir", Entry{Source: "valid.yaml", Doc: sign(t, request(), c.alice, c.bob)})
	ev = p.Evaluate(v, t0.Add(time.Minute))
	if len(ev.Set) != 0 || ev.IgnoredByCheck()[CheckConflict] != 2 {
		t.Errorf("conflicting ids: set %v, ignored %+v", ev.Set, ev.Ignored)
	}
	if _, err := ReadDir(filepath.Join(dir, "missing")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadDir of a missing directory = %v", err)
	}
}
