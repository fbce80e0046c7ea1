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

// TestWebhookRBACCustomKinds: the RBAC is for the declared group and plural
// of the custom kinds the cluster queries read, a custom kind named like a
// built-in one (a Knative Service) besides the built-in resource; before,
// spec.customKinds was ignored: Knative Services got no rule and a declared
// kind needed --resource (review finding).
func TestWebhookRBACCustomKinds(t *testing.T) {
	code, stdout, stderr := run(t, "", "webhook", "rbac", "--charter", "../../webhook/testdata/knative.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"- apiGroups:\n  - \"\"\n  resources:\n  - secrets\n  - services\n  verbs:\n  - get\n  - list\n  - watch\n",
		"- apiGroups:\n  - serving.knative.dev\n  resources:\n  - services\n  verbs:\n  - get\n  - list\n  - watch\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no rule\n%s\nin:\n%s", want, stdout)
		}
	}
	if strings.Count(stdout, "- apiGroups:") != 2 {
		t.Errorf("want exactly the core and Knative rules:\n%s", stdout)
	}
	// --resource replaces a kind's resources.
	code, stdout, stderr = run(t, "", "webhook", "rbac", "--charter", "../../webhook/testdata/knative.yaml", "--resource", "Service=/services")
	if code != 0 || strings.Contains(stdout, "serving.knative.dev") {
		t.Errorf("--resource Service=/services: exit %d, %s%s; want core services only", code, stdout, stderr)
	}
}
