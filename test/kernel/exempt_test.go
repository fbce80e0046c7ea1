package kernel

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/charter-dev/charter/agent"
	"github.com/charter-dev/charter/charter"
)

// TestAgentProcessIsNeverActedOn puts the test process (the agent) itself in
// a scoped cgroup with a rule denying its connect: the agent is exempt, a
// child in the same cgroup is not.
func TestAgentProcessIsNeverActedOn(t *testing.T) {
	requireKernel(t)
	root := rootCgroup(t)
	cg := newCgroup(t, root)
	target, _ := listen(t)
	rule := agent.Rule{Article: "AD-020", Runtime: charter.Runtime{Connect: &charter.ConnectRule{Deny: []string{target.Addr().String()}}, Action: "deny"}}
	loadKernel(t, agent.ModeEnforce, []agent.Rule{rule}, cg.id)

	moveSelf(t, cg.path, root)
	c, err := net.Dial("tcp", target.Addr().String())
	if err != nil {
		t.Fatalf("the agent's own connect was refused: %v", err)
	}
	c.Close()
	if code := runHelper(t, cg, "connect", target.Addr().String()); code != helperEPERM {
		t.Fatalf("child in the same cgroup: exit %d, want EPERM", code)
	}
}

// moveSelf moves the whole test process into dir and back at cleanup.
func moveSelf(t *testing.T, dir, root string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var orig string
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			orig = filepath.Join(root, rest)
		}
	}
	if orig == "" {
		t.Fatal("no cgroup v2 entry in /proc/self/cgroup")
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), pid, 0); err != nil {
		t.Fatalf("move test process into %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(filepath.Join(orig, "cgroup.procs"), pid, 0); err != nil {
			t.Errorf("move test process back to %s: %v", orig, err)
		}
	})
}
