package cli

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebhookReview sends manifests over real TLS to a server that answers
// like the webhook and checks the AdmissionReview the API server would send.
func TestWebhookReview(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review map[string]any
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			t.Error(err)
		}
		got = append(got, review)
		req := review["request"].(map[string]any)
		obj := req["object"].(map[string]any)
		allowed := obj["kind"] != "Pod"
		resp := map[string]any{"uid": req["uid"], "allowed": allowed, "warnings": []string{"[W-1] a warning"}}
		if !allowed {
			resp["status"] = map[string]any{"code": 403, "message": "[AD-001] privileged"}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": resp})
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin := privilegedPod + "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: shop}\n"
	code, out, stderr := run(t, stdin, "webhook", "review", "--server", srv.URL+"/validate", "--ca", ca, "-")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a denial)\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"DENIED  Pod default/web", "403: [AD-001] privileged", "ALLOWED Deployment shop/d", "warning: [W-1] a warning"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d requests", len(got))
	}
	req := got[1]["request"].(map[string]any)
	kind := req["kind"].(map[string]any)
	if got[1]["apiVersion"] != "admission.k8s.io/v1" || kind["group"] != "apps" || kind["version"] != "v1" || req["operation"] != "CREATE" || req["namespace"] != "shop" || len(req["uid"].(string)) != 32 {
		t.Errorf("review = %v", got[1])
	}
	if code, _, stderr := run(t, "", "webhook", "review", "-"); code != 2 || !strings.Contains(stderr, "--ca is required") {
		t.Errorf("without --ca: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "", "webhook", "review", "--operation", "PATCH", "--ca", ca, "-"); code != 2 || !strings.Contains(stderr, "use CREATE") {
		t.Errorf("bad operation: %d %s", code, stderr)
	}
}
