package kernel

import (
	"path/filepath"
	"syscall"
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

	if sig := signalOf(t, cg.command(a, filepath.Join(dir, "a1"))); sig != syscall.SIGKILL {
		t.Fatalf("rule set 1: a ended with signal %d, want SIGKILL", sig)
	}
	if sig := signalOf(t, cg.command(b, filepath.Join(dir, "b1"))); sig != 0 {
		t.Fatalf("rule set 1: b killed by signal %d", sig)
	}

	setRules(t, k, []agent.Rule{execRule("R-2", "deny", b)})
	if sig := signalOf(t, cg.command(a, filepath.Join(dir, "a2"))); sig != 0 {
		t.Fatalf("rule set 2: a killed by signal %d after its rule was removed", sig)
	}
	if sig := signalOf(t, cg.command(b, filepath.Join(dir, "b2"))); sig != syscall.SIGKILL {
		t.Fatalf("rule set 2: b ended with signal %d, want SIGKILL", sig)
	}

	if err := k.SetMode(agent.ModeMonitor); err != nil {
		t.Fatal(err)
	}
	if sig := signalOf(t, cg.command(b, filepath.Join(dir, "b3"))); sig != 0 {
		t.Fatalf("monitor mode: b killed by signal %d", sig)
	}
	if err := k.SetScope(nil); err != nil {
		t.Fatal(err)
	}
	if err := k.SetMode(agent.ModeEnforce); err != nil {
		t.Fatal(err)
	}
	if sig := signalOf(t, cg.command(b, filepath.Join(dir, "b4"))); sig != 0 {
		t.Fatalf("empty scope: b killed by signal %d", sig)
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
		if sig := signalOf(t, cg.command(bin, filepath.Join(dir, "x"))); sig != syscall.SIGKILL {
			t.Fatalf("round %d: signal %d, want SIGKILL", round, sig)
		}
		if err := k.Close(); err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
		if err := k.Close(); err != nil {
			t.Fatalf("round %d: second close: %v", round, err)
		}
		out := filepath.Join(dir, "after-close")
		if sig := signalOf(t, cg.command(bin, out)); sig != 0 || !exists(out) {
			t.Fatalf("round %d: after close the binary still does not run (signal %d)", round, sig)
		}
	}
}
