package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"
)

// deploymentLookalikeCRDs serve a kind named Deployment in two more groups:
// one the charter declares, one it does not. Both sort after apps, so the
// scan used to let their objects win a clash with the built-in one.
const deploymentLookalikeCRDs = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: deployments.declared.e2e.charter.dev}
spec:
  group: declared.e2e.charter.dev
  names: {kind: Deployment, listKind: DeploymentList, plural: deployments, singular: deployment}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: deployments.undeclared.e2e.charter.dev}
spec:
  group: undeclared.e2e.charter.dev
  names: {kind: Deployment, listKind: DeploymentList, plural: deployments, singular: deployment}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}
`

// deploymentOfTeamCharter: a ConfigMap names a Deployment of team shop in
// its namespace; customKinds replaces its %s line (internal/cli's live
// cluster data test decides with the same file).
func deploymentOfTeamCharter(t *testing.T, customKinds string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../internal/cli/testdata/deployment-of-team.charter.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.Replace(string(b), "%s", customKinds, 1))
}

// TestClusterDataLiveCustomKinds: with a kind named Deployment served by
// apps, by a group the charter declares and by one it does not, a cluster
// query decides alike in charter audit scan --kubeconfig, charter diff
// --kubeconfig and at admission: the declared group's objects count, the
// undeclared group's do not, and of two Deployments with one name the
// built-in one counts. Before, the live scan read the undeclared group too
// and let the declared group's object win the clash (review finding).
func TestClusterDataLiveCustomKinds(t *testing.T) {
	s := newScenario(t, "cluster-data-kinds")
	ctx := context.Background()
	dyn, err := dynamic.NewForConfig(env.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	installCRDs(t, dyn, []byte(deploymentLookalikeCRDs))
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	t.Cleanup(func() { // their objects go with them; other scans never see a lookalike Deployment
		for _, name := range []string{"deployments.declared.e2e.charter.dev", "deployments.undeclared.e2e.charter.dev"} {
			_ = crds.Delete(context.Background(), name, metav1.DeleteOptions{})
		}
	})
	ns := s.name
	builtin := func(name, team string) {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"team": team}}, Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}}, Spec: s.pod("p", nil).Spec}}}
		if _, err := s.cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lookalike := func(group, name, team string) {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": group + "/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"team": team}}}}
		if _, err := dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: "deployments"}).Namespace(ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	builtin("builtin", "shop")
	builtin("web", "other")
	lookalike("declared.e2e.charter.dev", "web", "shop") // a clash: the built-in web (team other) counts
	lookalike("declared.e2e.charter.dev", "custom", "shop")
	lookalike("undeclared.e2e.charter.dev", "undeclared", "shop")
	// allowed: what each ConfigMap naming the Deployment gets with the charter declaring declared.e2e.charter.dev.
	allowed := map[string]bool{"builtin": true, "custom": true, "web": false, "undeclared": false, "gone": false}
	deps := make([]string, 0, len(allowed))
	for dep := range allowed {
		deps = append(deps, dep)
	}
	sort.Strings(deps)
	configMap := func(name, dep string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string]string{"deployment": dep}}
	}
	for _, dep := range deps {
		if _, err := s.cs.CoreV1().ConfigMaps(ns).Create(ctx, configMap("cm-"+dep, dep), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	kubeconfig, declared, plain := filepath.Join(dir, "kubeconfig"), filepath.Join(dir, "declared.yaml"), filepath.Join(dir, "plain.yaml")
	if err := env.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	for p, kinds := range map[string]string{declared: "  customKinds:\n  - {group: declared.e2e.charter.dev, version: v1, kind: Deployment}", plain: ""} {
		if err := os.WriteFile(p, deploymentOfTeamCharter(t, kinds), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// audit scan --kubeconfig
	code, out, errOut := charterCLI(t, "audit", "scan", "--charter", declared, "--kubeconfig", kubeconfig, "-n", ns, "--chunk-size", "1", "-o", "json")
	if code != 1 {
		t.Fatalf("scan: exit %d, want 1\n%s", code, errOut)
	}
	scanned := map[string]bool{}
	for _, r := range parseScan(t, out) {
		if r.Kind == "ConfigMap" && strings.HasPrefix(r.Name, "cm-") {
			scanned[strings.TrimPrefix(r.Name, "cm-")] = r.Allowed
		}
	}
	if fmt.Sprint(scanned) != fmt.Sprint(allowed) {
		t.Errorf("audit scan: allowed per Deployment named %v, want %v\n%s", scanned, allowed, errOut)
	}

	// diff --kubeconfig: declaring the group makes only the custom Deployment count.
	code, out, errOut = charterCLI(t, "diff", "--old", plain, "--new", declared, "--kubeconfig", kubeconfig, "-n", ns, "-o", "json")
	if code != 0 {
		t.Fatalf("diff: exit %d, want 0 (nothing newly denied)\n%s\n%s", code, errOut, out)
	}
	var doc struct {
		Changes []struct{ Kind, Namespace, Name, Change string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, c := range doc.Changes {
		changes = append(changes, c.Change+" "+c.Kind+" "+c.Name)
	}
	if want := "newly allowed ConfigMap cm-custom"; strings.Join(changes, "; ") != want {
		t.Errorf("diff: changes %v, want %s", changes, want)
	}

	// admission: the webhook's cluster data cache, same bundle.
	w := startClusterDataWebhook(t, env.RestConfig(), declared)
	s.registerFor(declared, w.url, w.ca, "Fail", 10)
	admit := func(dep string) func(metav1.CreateOptions) error {
		return func(opts metav1.CreateOptions) error {
			_, err := s.cs.CoreV1().ConfigMaps(ns).Create(ctx, configMap("adm-"+dep, dep), opts)
			return err
		}
	}
	s.eventuallyDenied("a ConfigMap naming a Deployment that does not exist", "LD-001", admit("gone"))
	for _, dep := range deps {
		if ok, err := s.admits(admit(dep)); ok != allowed[dep] {
			t.Errorf("admission of a ConfigMap naming Deployment %s: admitted %v (%v), want %v as audit scan", dep, ok, err, allowed[dep])
		}
	}
}
