package kernel

import (
	"path/filepath"
	"testing"

	"github.com/charter-dev/charter/agent"
)

func TestMapsFollowRuleChangeWithoutRestart(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	dir := t.TempDir()
	a := copyBinary(t, dir, "a")
	b := copyBinary(t, dir, "b")
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{execRule("R-1", "deny", a)}, cg.id)

	if got := outcomeOf(t, cg.command(a, filepath.Join(dir, "a1"))); got != denied(k.Hook()) {
		t.Fatalf("rule set 1: a ended with %s, want %s", got, denied(k.Hook()))
	}
	if got := outcomeOf(t, cg.command(b, filepath.Join(dir, "b1"))); got != ran {
		t.Fatalf("rule set 1: b %s, want a normal run", got)
	}

	setRules(t, k, []agent.Rule{execRule("R-2", "deny", b)})
	if got := outcomeOf(t, cg.command(a, filepath.Join(dir, "a2"))); got != ran {
		t.Fatalf("rule set 2: a %s after its rule was removed, want a normal run", got)
	}
	if got := outcomeOf(t, cg.command(b, filepath.Join(dir, "b2"))); got != denied(k.Hook()) {
		t.Fatalf("rule set 2: b ended with %s, want %s", got, denied(k.Hook()))
	}

	if err := k.SetMode(agent.ModeMonitor); err != nil {
		t.Fatal(err)
	}
	if got := outcomeOf(t, cg.command(b, filepath.Join(dir, "b3"))); got != ran {
		t.Fatalf("monitor mode: b %s, want a normal run", got)
	}
	if err := k.SetScope(nil); err != nil {
		t.Fatal(err)
	}
	if err := k.SetMode(agent.ModeEnforce); err != nil {
		t.Fatal(err)
	}
	if got := outcomeOf(t, cg.command(b, filepath.Join(dir, "b4"))); got != ran {
		t.Fatalf("empty scope: b %s, want a normal run", got)
	}
}

func TestRestartsCleanly(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	dir := t.TempDir()
	bin := copyBinary(t, dir, "denied")
	rules := []agent.Rule{execRule("R-1", "deny", bin)}
	for round := 1; round <= 3; round++ {
		k := loadKernel(t, agent.ModeEnforce, rules, cg.id)
		if got := outcomeOf(t, cg.command(bin, filepath.Join(dir, "x"))); got != denied(k.Hook()) {
			t.Fatalf("round %d: %s, want %s", round, got, denied(k.Hook()))
		}
		if err := k.Close(); err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
		if err := k.Close(); err != nil {
			t.Fatalf("round %d: second close: %v", round, err)
		}
		out := filepath.Join(dir, "after-close")
		if got := outcomeOf(t, cg.command(bin, out)); got != ran || !exists(out) {
			t.Fatalf("round %d: after close the binary still does not run (%s)", round, got)
		}
	}
}
