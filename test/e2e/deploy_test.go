package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDeployManifests renders deploy/ with kubectl's kustomize and applies the
// result to the real apiserver as a server-side dry run: every object must
// pass the apiserver's validation and admission as it stands.
func TestDeployManifests(t *testing.T) {
	needCluster(t)
	kubectl := filepath.Join(root(t), "bin", "kubectl")
	rendered, err := exec.Command(kubectl, "kustomize", filepath.Join(root(t), "deploy")).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize deploy/: %v\n%s", err, stderr(err))
	}
	for _, want := range []string{
		"kind: Deployment", "name: charter-webhook", "replicas: 3", "kind: PodDisruptionBudget",
		"priorityClassName: system-cluster-critical", "podAntiAffinity", "path: /healthz", "path: /readyz",
		"kind: Service", "kind: ValidatingWebhookConfiguration", "failurePolicy: Fail", "timeoutSeconds: 3",
		"sideEffects: None", "- charter-system",
	} {
		if !bytes.Contains(rendered, []byte(want)) {
			t.Errorf("rendered deploy/ has no %q", want)
		}
	}
	if bytes.Contains(rendered, []byte("objectSelector")) {
		t.Error("rendered deploy/ exempts objects by label")
	}

	// The namespace must exist for a dry run of the objects in it.
	cs, _ := client(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "charter-system"}}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "--dry-run=server", "-f", "-")
	cmd.Stdin = bytes.NewReader(rendered)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl apply --dry-run=server: %v\n%s", err, out)
	}
	for _, want := range []string{"deployment.apps/charter-webhook", "poddisruptionbudget.policy/charter-webhook",
		"service/charter-webhook", "validatingwebhookconfiguration.admissionregistration.k8s.io/charter",
		"customresourcedefinition.apiextensions.k8s.io/overrides.charter.dev", "clusterrole.rbac.authorization.k8s.io/charter-webhook-overrides",
		"clusterrolebinding.rbac.authorization.k8s.io/charter-webhook-overrides"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("dry run did not apply %s:\n%s", want, out)
		}
	}
	t.Logf("server-side dry run:\n%s", out)
}

func root(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

func stderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
