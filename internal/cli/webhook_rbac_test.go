package cli

import (
	"os"
	"strings"
	"testing"
)

// TestWebhookRBACIsGenerated: deploy/components/cluster-data/rbac.yaml is
// exactly what `charter webhook rbac` prints for the cluster-data example,
// so the RBAC deploy/ ships is for exactly the kinds the bundle reads.
func TestWebhookRBACIsGenerated(t *testing.T) {
	want, err := os.ReadFile("../../deploy/components/cluster-data/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "", "webhook", "rbac", "--charter", "../../examples/charters/cluster-data.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != string(want) {
		t.Fatalf("deploy/components/cluster-data/rbac.yaml is stale; regenerate it with\n"+
			"  charter webhook rbac --charter examples/charters/cluster-data.yaml > deploy/components/cluster-data/rbac.yaml\ngot:\n%s", stdout)
	}
	for _, r := range []string{"namespaces", "services", "ingresses", "poddisruptionbudgets", "storageclasses"} {
		if !strings.Contains(stdout, "  - "+r+"\n") {
			t.Errorf("no rule for %s", r)
		}
	}
	if strings.Contains(stdout, "*") || strings.Count(stdout, "  - watch\n") != 4 {
		t.Errorf("want get, list and watch in one rule per group (4 groups), no wildcard:\n%s", stdout)
	}
}

// TestWebhookRBACBadInput: a bundle without cluster queries and a
// malformed --resource are bad input.
func TestWebhookRBACBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"webhook", "rbac", "--charter", "../../policies/anti-delos.yaml"}, "query no cluster data"},
		{[]string{"webhook", "rbac", "--charter", "../../examples/charters/cluster-data.yaml", "--resource", "Widget"}, `--resource "Widget": want KIND=GROUP/RESOURCE`},
		{[]string{"webhook", "rbac", "--charter", "../../examples/charters/cluster-data.yaml", "--resource", "StorageClass=storageclasses"}, `resource of kind StorageClass: "storageclasses" is not GROUP/RESOURCE`},
	} {
		code, stdout, stderr := run(t, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %s%s; want 2 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}
