package overrides

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDirReload: the first read fills the pool; an unchanged directory is
// not replaced (the pool's evaluation is reused); a new signature, a new
// file and a removed file are each a change; an unreadable directory is an
// error and none of its overrides counts until it can be read again.
func TestDirReload(t *testing.T) {
	c := newCustodians(t)
	v, err := NewVerifier(c.info(t))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "overrides")
	os.Mkdir(dir, 0o755)
	write := func(name string, d *Document) {
		t.Helper()
		data, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(time.Minute)
	p := NewPool()
	evaluations := 0
	p.OnEvaluate = func(*Evaluation) { evaluations++ }
	d := NewDir(dir)
	reload := func(step string, wantChanged bool, wantSet int) {
		t.Helper()
		changed, err := d.Reload(p)
		if err != nil {
			t.Fatalf("%s: Reload: %v", step, err)
		}
		if changed != wantChanged {
			t.Errorf("%s: changed = %v, want %v", step, changed, wantChanged)
		}
		if ev := p.Evaluate(v, now); len(ev.Set) != wantSet {
			t.Errorf("%s: %d verified overrides, want %d (ignored %+v)", step, len(ev.Set), wantSet, ev.Ignored)
		}
	}
	reload("empty directory, first read", true, 0)
	write("debug.yaml", sign(t, request(), c.alice))
	reload("one approval of two", true, 0)
	reload("nothing changed", false, 0)
	if evaluations != 2 {
		t.Errorf("an unchanged directory was verified again: %d evaluations, want 2", evaluations)
	}
	write("debug.yaml", sign(t, request(), c.alice, c.bob))
	reload("second approval added", true, 1)
	other := request()
	other.Metadata.Name = "other"
	write("other.yaml", sign(t, other, c.alice, c.bob))
	reload("a second file", true, 2)
	os.Remove(filepath.Join(dir, "debug.yaml"))
	reload("a file removed", true, 1)
	os.Rename(dir, dir+".gone")
	if changed, err := d.Reload(p); err == nil || changed {
		t.Errorf("Reload of a missing directory = %v, %v; want an error", changed, err)
	}
	if ev := p.Evaluate(v, now); len(ev.Set) != 0 {
		t.Errorf("after a failed read the pool holds %d verified overrides, want none", len(ev.Set))
	}
	if changed, err := d.Reload(p); err == nil || changed {
		t.Errorf("second Reload of a missing directory = %v, %v; want an error", changed, err)
	}
	os.Rename(dir+".gone", dir)
	reload("the directory is back", true, 1)
	if d.Origin() != "dir:"+dir {
		t.Errorf("Origin = %q", d.Origin())
	}
}
