package kernel

import (
	"net"
	"os"
	"testing"

	"github.com/charter-dev/charter/agent"
	"github.com/charter-dev/charter/charter"
)

func listen(t *testing.T) (net.Listener, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acceptAndClose(t, l)
	return l, l.Addr().(*net.TCPAddr).Port
}

// acceptAndClose accepts and closes every connection to l until l is closed
// at the end of the test.
func acceptAndClose(tb testing.TB, l net.Listener) {
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func runHelper(t *testing.T, cg *cgroup, op string, args ...string) int {
	t.Helper()
	var cmd = execCommand(os.Args[0], args...)
	if cg != nil {
		cmd = cg.command(os.Args[0], args...)
	}
	cmd.Env = helperEnv(op)
	out, err := cmd.CombinedOutput()
	if len(out) > 0 {
		t.Logf("helper %s %v: %s", op, args, out)
	}
	if cmd.ProcessState == nil {
		t.Fatalf("helper %s: %v", op, err)
	}
	return cmd.ProcessState.ExitCode()
}

func TestConnectDeniedGetsEPERM(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	denied, deniedPort := listen(t)
	allowed, _ := listen(t)
	rule := agent.Rule{Article: "AD-020", Runtime: charter.Runtime{
		Connect: &charter.ConnectRule{Deny: []string{"169.254.169.254/32", denied.Addr().String()}},
		Action:  "deny",
	}}
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{rule}, cg.id)
	r, err := k.NewEventReader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	if code := runHelper(t, cg, "connect", denied.Addr().String()); code != helperEPERM {
		t.Fatalf("denied connect in scope: exit %d, want %d (EPERM)", code, helperEPERM)
	}
	e := waitEvent(t, r, func(e agent.Event) bool { return e.Kind == "connect" })
	t.Logf("event: hook=%s verdict=%s dest=%s pid=%d", e.Hook, e.Verdict, e.Dest, e.PID)
	if e.Verdict != "denied" || e.Dest.Port() != uint16(deniedPort) || e.Dest.Addr().String() != "127.0.0.1" {
		t.Errorf("event = %+v", e)
	}
	if code := runHelper(t, cg, "connect", allowed.Addr().String()); code != helperOK {
		t.Fatalf("allowed connect in scope: exit %d, want 0", code)
	}
	if code := runHelper(t, nil, "connect", denied.Addr().String()); code != helperOK {
		t.Fatalf("denied target out of scope: exit %d, want 0", code)
	}
	// The same port on another prefix, and a v4-mapped IPv6 destination.
	if code := runHelper(t, cg, "connect", "[::ffff:"+denied.Addr().(*net.TCPAddr).IP.String()+"]:"+itoa(deniedPort)); code != helperEPERM {
		t.Fatalf("v4-mapped IPv6 connect to the denied target: exit %d, want EPERM", code)
	}
}

func TestConnectMonitorAllows(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	denied, _ := listen(t)
	rule := agent.Rule{Article: "AD-020", Runtime: charter.Runtime{
		Connect: &charter.ConnectRule{Deny: []string{"127.0.0.0/8"}}, Action: "deny",
	}}
	k := loadKernel(t, agent.ModeMonitor, []agent.Rule{rule}, cg.id)
	r, err := k.NewEventReader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if code := runHelper(t, cg, "connect", denied.Addr().String()); code != helperOK {
		t.Fatalf("monitor mode: exit %d, want 0", code)
	}
	e := waitEvent(t, r, func(e agent.Event) bool { return e.Kind == "connect" })
	t.Logf("event: hook=%s verdict=%s dest=%s", e.Hook, e.Verdict, e.Dest)
	if e.Verdict != "monitor" {
		t.Errorf("verdict %q, want monitor", e.Verdict)
	}
}
