package kernel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/charter-dev/charter/agent"
	"github.com/charter-dev/charter/charter"
)

func TestOpenUnderDeniedPrefixIsReported(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.MkdirAll(secret, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secret, "key"), []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Made before the rules load: on the LSM path the writes below are refused.
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "passwd"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rule := agent.Rule{Article: "AD-030", Runtime: charter.Runtime{
		Open:   &charter.OpenRule{DenyWrite: []string{dir + "/etc/"}, DenyRead: []string{secret}},
		Action: "deny",
	}}
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{rule}, cg.id)
	r, err := k.NewEventReader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// The LSM path refuses the open (EPERM, verdict denied); the fallback
	// tracepoint cannot fail the call and reports it (verdict monitor).
	wantOpen, wantVerdict := ran, "monitor"
	if k.Hook() == agent.HookLSM {
		wantOpen, wantVerdict = refused, "denied"
	}
	target := filepath.Join(dir, "etc", "passwd")
	cmd := cg.command(os.Args[0], target)
	cmd.Env = helperEnv("write")
	if got := outcomeOf(t, cmd); got != wantOpen {
		t.Fatalf("denied write on %s: %s, want %s", k.Hook(), got, wantOpen)
	}
	e := waitEvent(t, r, func(e agent.Event) bool { return e.Kind == "open" && e.PID == uint32(cmd.Process.Pid) })
	t.Logf("event: hook=%s verdict=%s pid=%d path=%s write=%v flags=%#o", e.Hook, e.Verdict, e.PID, e.Path, e.Write, e.Flags)
	if e.Path != target || !e.Write || e.Rule != 1 || e.Verdict != wantVerdict {
		t.Errorf("write event = %+v, want path %s write verdict %s", e, target, wantVerdict)
	}

	// A relative name is joined to the working directory.
	cmd = cg.command(os.Args[0], filepath.Join(dir, "etc"), "shadow")
	cmd.Env = helperEnv("chdir-write")
	if got := outcomeOf(t, cmd); got != wantOpen {
		t.Fatalf("denied relative write on %s: %s, want %s", k.Hook(), got, wantOpen)
	}
	e = waitEvent(t, r, func(e agent.Event) bool { return e.Kind == "open" && e.PID == uint32(cmd.Process.Pid) })
	t.Logf("event: hook=%s verdict=%s pid=%d path=%s (relative open)", e.Hook, e.Verdict, e.PID, e.Path)
	if want := filepath.Join(dir, "etc", "shadow"); e.Path != want {
		t.Errorf("relative write event path %q, want %q", e.Path, want)
	}

	// Reads are told apart from writes: a read under the write-only prefix is
	// not reported, a read of the read-denied file is.
	cmd = cg.command(os.Args[0], target)
	cmd.Env = helperEnv("read")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("read helper: %v: %s", err, out)
	}
	cmd2 := cg.command(os.Args[0], filepath.Join(secret, "key"))
	cmd2.Env = helperEnv("read")
	if got := outcomeOf(t, cmd2); got != wantOpen {
		t.Fatalf("denied read on %s: %s, want %s", k.Hook(), got, wantOpen)
	}
	e = waitEvent(t, r, func(e agent.Event) bool {
		if e.Kind == "open" && e.PID == uint32(cmd.Process.Pid) {
			t.Errorf("read under a write-only prefix reported: %+v", e)
		}
		return e.Kind == "open" && e.PID == uint32(cmd2.Process.Pid)
	})
	t.Logf("event: hook=%s verdict=%s pid=%d path=%s write=%v", e.Hook, e.Verdict, e.PID, e.Path, e.Write)
	if e.Write || e.Path != filepath.Join(secret, "key") {
		t.Errorf("read event = %+v", e)
	}
}
