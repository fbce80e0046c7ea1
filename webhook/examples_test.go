package webhook

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/reviews from the anti-delos fixtures")

// exampleReviews are AdmissionReviews for shipped anti-delos fixtures, kept in
// testdata/reviews for the demo (`make demo` posts them over TLS) and checked
// here against the shipped charter.
var exampleReviews = []struct {
	file, fixture, operation string
	mutate                   func(object map[string]any)
	allowed                  bool
	article                  string // in the message, a warning or an audit annotation
}{
	{"pod-compliant.json", "pod-compliant.yaml", "CREATE", nil, true, ""},
	{"pod-privileged.json", "pod-compliant.yaml", "CREATE", func(o map[string]any) {
		sc := o["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["securityContext"].(map[string]any)
		sc["privileged"] = true
		delete(sc, "allowPrivilegeEscalation")
	}, false, "AD-007"},
	{"daemonset-privileged.json", "daemonset-privileged.yaml", "CREATE", nil, false, "AD-007"},
	{"pod-writable-root.json", "pod-compliant.yaml", "UPDATE", func(o map[string]any) {
		sc := o["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["securityContext"].(map[string]any)
		sc["readOnlyRootFilesystem"] = false
	}, true, "AD-014"},
	{"deployment-no-probe.json", "deployment-compliant.yaml", "CREATE", func(o map[string]any) {
		c := o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		delete(c, "livenessProbe")
	}, true, "AD-016"},
}

func TestExampleReviews(t *testing.T) {
	dir := filepath.Join("testdata", "reviews")
	if *update {
		writeExampleReviews(t, dir)
	}
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "../policies/anti-delos.yaml")), Logger: quiet})
	for _, ex := range exampleReviews {
		t.Run(ex.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, ex.file))
			if err != nil {
				t.Fatalf("%v (run go test ./webhook -run TestExampleReviews -update)", err)
			}
			resp := decodeResponse(t, post(h, "application/json", body))
			if resp.Allowed != ex.allowed {
				t.Fatalf("allowed = %v, want %v: %+v", resp.Allowed, ex.allowed, resp)
			}
			all, _ := json.Marshal(resp)
			if ex.article != "" && !strings.Contains(string(all), ex.article) {
				t.Errorf("response does not mention %s: %s", ex.article, all)
			}
		})
	}
}

func writeExampleReviews(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, ex := range exampleReviews {
		raw, err := os.ReadFile(filepath.Join("..", "policies", "testdata", "anti-delos", ex.fixture))
		if err != nil {
			t.Fatal(err)
		}
		var object map[string]any
		if err := yaml.Unmarshal(raw, &object); err != nil {
			t.Fatal(err)
		}
		if ex.mutate != nil {
			ex.mutate(object)
		}
		md := object["metadata"].(map[string]any)
		md["name"] = strings.TrimSuffix(ex.file, ".json")
		group, version, _ := strings.Cut(object["apiVersion"].(string), "/")
		if version == "" {
			group, version = "", group
		}
		kind := object["kind"].(string)
		req := map[string]any{
			"uid":       "00000000-0000-4000-8000-00000000000" + string(rune('1'+i)),
			"kind":      map[string]any{"group": group, "version": version, "kind": kind},
			"resource":  map[string]any{"group": group, "version": version, "resource": strings.ToLower(kind) + "s"},
			"name":      md["name"],
			"namespace": md["namespace"],
			"operation": ex.operation,
			"userInfo":  map[string]any{"username": "alice@example.com", "groups": []any{"developers", "system:authenticated"}},
			"object":    object,
			"dryRun":    false,
		}
		if ex.operation == "UPDATE" {
			req["oldObject"] = object
		}
		b, err := json.MarshalIndent(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ex.file), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
