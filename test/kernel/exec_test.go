package kernel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/charter-dev/charter/agent"
)

func TestExecDeniedIsKilledInScopeOnly(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	dir := t.TempDir()
	bin := copyBinary(t, dir, "denied-touch")
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{execRule("AD-020", "deny", bin)}, cg.id)
	r, err := k.NewEventReader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	inside := filepath.Join(dir, "inside")
	cmd := cg.command(bin, inside)
	if got := outcomeOf(t, cmd); got != denied(k.Hook()) {
		t.Fatalf("in scope: %s ended %s, want %s", bin, got, denied(k.Hook()))
	}
	if exists(inside) {
		t.Fatalf("in scope: the denied binary ran: %s exists", inside)
	}
	e := waitEvent(t, r, func(e agent.Event) bool { return e.Kind == "exec" && isProcess(cmd, e) })
	t.Logf("event: hook=%s verdict=%s rule=%d pid=%d ppid=%d path=%s args=%q", e.Hook, e.Verdict, e.Rule, e.PID, e.PPID, e.Path, e.Args)
	if e.Verdict != "denied" || e.Rule != 1 || e.Path != bin || e.PPID != uint32(os.Getpid()) {
		t.Errorf("event = %+v, want denied rule 1 path %s ppid %d", e, bin, os.Getpid())
	}
	// The fallback reads argv from the new image; the LSM hook runs before it exists.
	if k.Hook() == agent.HookTracepoint && (len(e.Args) != 2 || e.Args[1] != inside) {
		t.Errorf("event args = %q, want [%s %s]", e.Args, bin, inside)
	}

	outside := filepath.Join(dir, "outside")
	if got := outcomeOf(t, execCommand(bin, outside)); got != ran {
		t.Fatalf("out of scope: %s, want a normal run", got)
	}
	if !exists(outside) {
		t.Fatalf("out of scope: %s did not run", bin)
	}
}

func TestExecDeniedInDescendantCgroup(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	child := newCgroup(t, cg.path)
	dir := t.TempDir()
	bin := copyBinary(t, dir, "denied-touch")
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{execRule("AD-020", "deny", dir+"/")}, cg.id)
	out := filepath.Join(dir, "out")
	if got := outcomeOf(t, child.command(bin, out)); got != denied(k.Hook()) || exists(out) {
		t.Fatalf("descendant cgroup: %s, side effect %v; want denied and none", got, exists(out))
	}
}

func TestExecMonitorReportsAndRuns(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	dir := t.TempDir()
	bin := copyBinary(t, dir, "watched-touch")
	k := loadKernel(t, agent.ModeMonitor, []agent.Rule{execRule("AD-020", "deny", bin)}, cg.id)
	r, err := k.NewEventReader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := filepath.Join(dir, "out")
	cmd := cg.command(bin, out)
	if got := outcomeOf(t, cmd); got != ran || !exists(out) {
		t.Fatalf("monitor mode: %s, ran %v; want a normal run", got, exists(out))
	}
	e := waitEvent(t, r, func(e agent.Event) bool { return e.Kind == "exec" && e.PID == uint32(cmd.Process.Pid) })
	t.Logf("event: hook=%s verdict=%s path=%s", e.Hook, e.Verdict, e.Path)
	if e.Verdict != "monitor" {
		t.Errorf("verdict %q, want monitor", e.Verdict)
	}
}
