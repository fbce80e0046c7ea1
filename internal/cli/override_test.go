package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	sigkeys "github.com/charter-dev/charter/keys"
	"github.com/charter-dev/charter/overrides/overridestest"
)

// TestOverrideWorkflow: request, approve by two custodians, verify, and
// eval with --overrides; each step's exit code and message.
func TestOverrideWorkflow(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(sigkeys.PasswordEnv, "")
	council := overridestest.New(t, dir, overridestest.Options{Article: "NO-PRIV", Members: []string{"alice", "bob"}, KeyFiles: true})
	c := council.Charter
	pod := filepath.Join(dir, "pod.yaml")
	os.WriteFile(pod, []byte(strings.Replace(privilegedPod, "name: web,", "name: web-1,", 1)), 0o644)
	ovs := filepath.Join(dir, "overrides")
	os.Mkdir(ovs, 0o755)
	req := filepath.Join(ovs, "debug.yaml")

	step := func(want int, wantText string, args ...string) string {
		t.Helper()
		code, out, stderr := run(t, "", args...)
		if code != want || !strings.Contains(out+stderr, wantText) {
			t.Fatalf("charter %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, wantText, out, stderr)
		}
		return out
	}
	request := []string{"override", "request", "--charter", c, "--article", "NO-PRIV", "--namespace", "default", "--kind", "Pod", "--name", "web-*", "--reason", "INC-42", "--id", "debug-web"}
	step(2, "an override always expires", append(request, "-o", req)...)
	step(2, "the council allows at most 1h0m0s", append(request, "--expires", "2h", "-o", req)...)
	step(2, `article NOPE is not in charter "shop"`, "override", "request", "--charter", c, "--article", "NOPE", "--namespace", "default", "--kind", "Pod", "--name", "web", "--reason", "r", "--expires", "5m", "-o", req)
	step(0, "2 of 2 council members must approve it", append(request, "--expires", "30m", "-o", req)...)
	step(2, "already exists; refusing to overwrite it", append(request, "--expires", "30m", "-o", req)...)
	step(1, "0 of 2 valid approvals", "override", "verify", "--charter", c, req)
	step(0, "1 signature(s)", "override", "approve", "--key", filepath.Join(dir, "alice.key"), req)
	step(2, "is already signed by key", "override", "approve", "--key", filepath.Join(dir, "alice.key"), req)
	step(1, "1 of 2 valid approvals", "override", "verify", "--charter", c, req)
	step(1, "override ignored (approvals)", "eval", "--charter", c, "--overrides", ovs, pod)
	step(0, "2 signature(s)", "override", "approve", "--key", filepath.Join(dir, "bob.key"), req)
	step(0, "is valid: 2 of 2 valid approvals (alice.pub, bob.pub)", "override", "verify", "--charter", c, req)
	step(0, "allowed by override debug-web: container app is privileged", "eval", "--charter", c, "--overrides", ovs, pod)
	out := step(0, "debug-web", "override", "status", "--charter", c, ovs)
	if !strings.Contains(out, "active") || !strings.Contains(out, "2/2") {
		t.Errorf("status:\n%s", out)
	}

	// Widening the scope after approval invalidates both signatures.
	data, _ := os.ReadFile(req)
	wide := filepath.Join(dir, "wide.yaml")
	os.WriteFile(wide, []byte(strings.Replace(string(data), "name: web-*", "name: '*'", 1)), 0o644)
	step(1, "signature 1: invalid", "override", "verify", "--charter", c, wide)
	step(2, "malformed check failed", "override", "verify", "--charter", c, pod)
	step(2, "no such file or directory", "override", "verify", "--charter", c, pod+"x")
}
