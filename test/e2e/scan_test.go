package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/internal/cli"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// scanCharter denies privileged containers (Pods and every pod template),
// warns on NodePort Services and denies Widgets (a CRD) larger than 3.
const scanCharter = `apiVersion: charter.dev/v1
kind: Charter
metadata: {name: scan-e2e, version: 1.0.0}
spec:
  defaults: {action: deny, severity: high}
  customKinds:
  - {group: scan.charter.dev, version: v1, kind: Widget}
  articles:
  - id: SC-001
    title: No privileged containers
    severity: critical
    match: {kinds: [Pod]}
    foreach: containers
    violation:
      any:
      - {path: container.securityContext.privileged, op: equals, value: true}
    message: "container {{container.name}} is privileged"
  - id: SC-002
    title: No NodePort services
    action: warn
    severity: medium
    match: {kinds: [Service]}
    violation:
      any:
      - {path: object.spec.type, op: equals, value: NodePort}
    message: "service is NodePort"
  - id: SC-003
    title: Widgets stay small
    match: {kinds: [Widget]}
    violation:
      any:
      - {path: object.spec.size, op: gt, value: 3}
    message: "widget size {{value}} is over 3"
`

var widgetGVR = schema.GroupVersionResource{Group: "scan.charter.dev", Version: "v1", Resource: "widgets"}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.scan.charter.dev}
spec:
  group: scan.charter.dev
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`

// installCRDs creates the CRDs in file (or text) and waits until they are
// served.
func installCRDs(t *testing.T, dyn dynamic.Interface, data []byte) {
	t.Helper()
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var obj map[string]any
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatal(err)
		}
		if obj["kind"] != "CustomResourceDefinition" {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if _, err := crds.Create(context.Background(), u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create CRD %s: %v", u.GetName(), err)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			got, err := crds.Get(context.Background(), u.GetName(), metav1.GetOptions{})
			if err == nil && established(got) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("CRD %s never established: %v", u.GetName(), err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// charterCLI runs the charter command line in this process.
func charterCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

type scanResult struct {
	Kind, Namespace, Name, File string
	Allowed                     bool
	Violations                  []struct{ Article, Action string }
}

func parseScan(t *testing.T, out string) []scanResult {
	t.Helper()
	var doc struct{ Results []scanResult }
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return doc.Results
}

// scanFixture makes two namespaces of objects created with no webhook
// registered: 3 violate (a privileged Pod, a Deployment whose template is
// privileged, a Widget of size 5), 1 warns (a NodePort Service), the rest
// pass. It returns the kubeconfig and charter paths.
func scanFixture(t *testing.T) (kubeconfig, charterPath string, a, b *scenario) {
	a, b = newScenario(t, "scan-a"), newScenario(t, "scan-b")
	dyn, err := dynamic.NewForConfig(env.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	installCRDs(t, dyn, []byte(widgetCRD))
	ctx := context.Background()
	for i, name := range []string{"ok-1", "ok-2", "ok-3", "priv"} {
		p := a.pod(name, func(p *corev1.Pod) {
			if name == "priv" {
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
			}
		})
		if err := a.createPod(p, false); err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "scan-b"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "app", Image: "registry.k8s.io/pause:3.9", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}}},
	}}
	if _, err := b.cs.AppsV1().Deployments("scan-b").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "nodeport", Namespace: "scan-b"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "internal", Namespace: "scan-b"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
	} {
		if _, err := b.cs.CoreV1().Services("scan-b").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for name, size := range map[string]int64{"big": 5, "small": 2} {
		w := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "scan.charter.dev/v1", "kind": "Widget",
			"metadata": map[string]any{"name": name, "namespace": "scan-a"}, "spec": map[string]any{"size": size}}}
		if _, err := dyn.Resource(widgetGVR).Namespace("scan-a").Create(ctx, w, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	kubeconfig, charterPath = filepath.Join(dir, "kubeconfig"), filepath.Join(dir, "charter.yaml")
	if err := env.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(charterPath, []byte(scanCharter), 0o644); err != nil {
		t.Fatal(err)
	}
	return kubeconfig, charterPath, a, b
}

func denied(rs []scanResult, namespaces ...string) []string {
	var out []string
	for _, r := range rs {
		for _, ns := range namespaces {
			if r.Namespace == ns && !r.Allowed {
				out = append(out, r.Kind+" "+r.Namespace+"/"+r.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestScanCluster: `charter audit scan` on the live apiserver finds exactly
// the objects created before any webhook that violate the charter, across
// built-in kinds, pod templates and a CRD found through discovery, reading
// with paginated lists; it writes nothing; --apply then writes PolicyReports
// the apiserver accepts (the wgpolicyk8s.io CRDs installed from
// testdata), with the right summary counts, and updates them on a rerun.
func TestScanCluster(t *testing.T) {
	kubeconfig, charterPath, _, _ := scanFixture(t)
	dyn, err := dynamic.NewForConfig(env.RestConfig())
	if err != nil {
		t.Fatal(err)
	}

	code, out, stderr := charterCLI(t, "audit", "scan", "--charter", charterPath, "--kubeconfig", kubeconfig, "--chunk-size", "2", "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (denied objects)\n%s", code, stderr)
	}
	rs := parseScan(t, out)
	want := []string{"Deployment scan-b/web", "Pod scan-a/priv", "Widget scan-a/big"}
	if got := denied(rs, "scan-a", "scan-b"); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("denied = %v, want %v", got, want)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Namespace == "scan-a" || r.Namespace == "scan-b" {
			seen[r.Kind+" "+r.Name] = true
		}
		if r.Kind == "Service" && r.Name == "nodeport" && (!r.Allowed || len(r.Violations) != 1 || r.Violations[0].Action != "warn") {
			t.Errorf("nodeport service = %+v, want allowed with one warning", r)
		}
		if r.Kind == "Widget" && r.Name == "big" && r.File != "/apis/scan.charter.dev/v1/namespaces/scan-a/widgets/big" {
			t.Errorf("widget file = %q", r.File)
		}
		if r.Kind == "ConfigMap" || r.Kind == "Secret" {
			t.Errorf("%s %s read: the charter matches no such kind", r.Kind, r.Name)
		}
	}
	for _, k := range []string{"Pod ok-1", "Pod ok-2", "Pod ok-3", "Pod priv", "Deployment web", "Service nodeport", "Service internal", "Widget big", "Widget small"} {
		if !seen[k] {
			t.Errorf("%s not scanned", k)
		}
	}
	if !strings.Contains(stderr, "scanned v1/pods:") || !strings.Contains(stderr, "scanned scan.charter.dev/v1/widgets:") {
		t.Errorf("no plain progress counts on a non-terminal stderr:\n%s", stderr)
	}
	if n := continuedLists(t, "/api/v1/pods", "2"); n == 0 {
		t.Error("the pods (4 in scan-a alone > --chunk-size 2) were not read with continue tokens")
	}

	// One namespace only; and nothing written without --apply.
	code, out, stderr = charterCLI(t, "audit", "scan", "--charter", charterPath, "--kubeconfig", kubeconfig, "--context", "e2e", "-n", "scan-a", "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, r := range parseScan(t, out) {
		if r.Namespace != "scan-a" {
			t.Errorf("-n scan-a read %s %s/%s", r.Kind, r.Namespace, r.Name)
		}
	}
	reports := dyn.Resource(schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"})
	if _, err := reports.Namespace("scan-a").List(context.Background(), metav1.ListOptions{}); err == nil {
		t.Fatal("the PolicyReport CRD exists before the test installed it")
	}

	crds, err := os.ReadFile(filepath.Join("testdata", "wgpolicyk8s.io_policyreports.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	installCRDs(t, dyn, crds)
	for run := 0; run < 2; run++ { // the second run updates what the first created
		code, _, stderr = charterCLI(t, "audit", "scan", "--charter", charterPath, "--kubeconfig", kubeconfig, "-n", "scan-a", "--apply", "-o", "json")
		if code != 1 || !strings.Contains(stderr, "applied PolicyReport scan-a/charter-scan-e2e") {
			t.Fatalf("run %d: exit %d\n%s", run, code, stderr)
		}
	}
	code, _, stderr = charterCLI(t, "audit", "scan", "--charter", charterPath, "--kubeconfig", kubeconfig, "-n", "scan-b", "--apply")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for ns, want := range map[string]map[string]int64{
		"scan-a": {"pass": 4, "fail": 2, "warn": 0},
		"scan-b": {"pass": 1, "fail": 1, "warn": 1},
	} {
		got, err := reports.Namespace(ns).Get(context.Background(), "charter-scan-e2e", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("PolicyReport in %s: %v", ns, err)
		}
		for k, n := range want {
			if v, _, _ := unstructured.NestedInt64(got.Object, "summary", k); v != n {
				t.Errorf("%s summary.%s = %d, want %d", ns, k, v, n)
			}
		}
		results, _, _ := unstructured.NestedSlice(got.Object, "results")
		fails := []string{}
		for _, r := range results {
			m := r.(map[string]any)
			if m["result"] == "fail" {
				res := m["resources"].([]any)[0].(map[string]any)
				fails = append(fails, m["rule"].(string)+" "+res["kind"].(string)+"/"+res["name"].(string)+" "+m["severity"].(string))
			}
		}
		sort.Strings(fails)
		t.Logf("PolicyReport %s/charter-scan-e2e accepted by the apiserver: summary %v, fail results %v", ns, got.Object["summary"], fails)
		if ns == "scan-a" && strings.Join(fails, ", ") != "SC-001 Pod/priv critical, SC-003 Widget/big high" {
			t.Errorf("scan-a fail results = %v", fails)
		}
		if mgr := got.GetManagedFields(); len(mgr) == 0 || mgr[0].Manager != "charter" || mgr[0].Operation != metav1.ManagedFieldsOperationApply {
			t.Errorf("%s report not server-side applied by charter: %+v", ns, mgr)
		}
	}
}

// continuedLists counts the apiserver's audit events of list requests on
// path (as /api/v1/pods) with the given limit that carried a continue token.
func continuedLists(t *testing.T, path, limit string) int {
	t.Helper()
	data, err := os.ReadFile(env.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range bytes.Split(data, []byte("\n")) {
		var ev struct {
			Verb       string `json:"verb"`
			RequestURI string `json:"requestURI"`
			Stage      string `json:"stage"`
		}
		if json.Unmarshal(line, &ev) != nil || ev.Verb != "list" || ev.Stage != "ResponseComplete" {
			continue
		}
		if strings.HasPrefix(ev.RequestURI, path+"?") && strings.Contains(ev.RequestURI, "continue=") && strings.Contains(ev.RequestURI, "limit="+limit) {
			n++
		}
	}
	return n
}
