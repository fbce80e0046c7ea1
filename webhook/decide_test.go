package webhook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/charter-dev/charter/audit"
)

// TestDecide drives the handler with the real engine over the test charter.
func TestDecide(t *testing.T) {
	d := loadEngine(t, "testdata/charter.yaml")
	dryRun := func(req map[string]any) { req["dryRun"] = true }
	deployment := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "d", "namespace": "default"},
		"spec":     map[string]any{"template": map[string]any{"spec": podObject("", privileged)["spec"]}},
	}
	deployReview := review("CREATE", deployment, func(req map[string]any) {
		req["kind"] = map[string]any{"group": "apps", "version": "v1", "kind": "Deployment"}
	})
	cases := []struct {
		name        string
		review      map[string]any
		allowed     bool
		message     []string // substrings of the denial message
		warnings    []string
		annotations map[string]string
		decision    string
		evaluated   bool
		dryRun      bool
	}{
		{name: "privileged pod denied", review: review("CREATE", podObject("default", privileged)), allowed: false,
			message:  []string{"[AD-001] container app is privileged; remove securityContext.privileged (at spec.containers[0].securityContext.privileged)"},
			decision: "denied", evaluated: true},
		{name: "compliant pod admitted", review: review("CREATE", podObject("default", compliant)), allowed: true,
			decision: "allowed", evaluated: true},
		{name: "privileged template denied", review: deployReview, allowed: false,
			message:  []string{"[AD-001]", "spec.template.spec.containers[0].securityContext.privileged"},
			decision: "denied", evaluated: true},
		{name: "warn article is a warning", review: review("CREATE", podObject("default", noLimits)), allowed: true,
			warnings: []string{"[AD-003] container app has no memory limit; set resources.limits.memory (at spec.containers[0].resources.limits.memory)"},
			decision: "allowed", evaluated: true},
		{name: "audit article is an audit annotation", review: review("UPDATE", podObject("default", dockerHub)), allowed: true,
			annotations: map[string]string{"AD-010": "container app pulls docker.io/library/nginx from Docker Hub (at spec.containers[0].image)"},
			decision:    "allowed", evaluated: true},
		{name: "dry run decided the same", review: review("CREATE", podObject("default", privileged), dryRun), allowed: false,
			message: []string{"[AD-001]"}, decision: "denied", evaluated: true, dryRun: true},
		{name: "delete decided, no article names it", review: review("DELETE", podObject("default", privileged), func(r map[string]any) {
			r["object"], r["oldObject"] = nil, podObject("default", privileged)
		}), allowed: true, decision: "allowed", evaluated: true},
		{name: "connect decided, no article names it", review: review("CONNECT", podObject("default", privileged)), allowed: true,
			decision: "allowed", evaluated: true},
		{name: "excluded namespace not evaluated", review: review("CREATE", podObject("kube-system", privileged)), allowed: true, decision: "skipped"},
		{name: "own namespace not evaluated", review: review("CREATE", podObject("charter", privileged)), allowed: true, decision: "skipped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memorySink{}
			h := NewHandler(HandlerOptions{Source: Fixed(d), Audit: sink, Logger: quiet,
				ExcludeNamespaces: append([]string{"charter"}, DefaultExcludeNamespaces...)})
			resp := decodeResponse(t, post(h, "application/json; charset=utf-8", mustJSON(t, tc.review)))
			if resp.UID != "705ab4f5-6393-11e8-b7cc-42010a800002" {
				t.Errorf("uid = %q, want the request's", resp.UID)
			}
			if resp.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v: %+v", resp.Allowed, tc.allowed, resp)
			}
			if !tc.allowed {
				if resp.Result == nil || resp.Result.Code != 403 || resp.Result.Reason != "Forbidden" {
					t.Fatalf("result = %+v, want 403 Forbidden", resp.Result)
				}
				for _, m := range tc.message {
					if !strings.Contains(resp.Result.Message, m) {
						t.Errorf("message %q does not contain %q", resp.Result.Message, m)
					}
				}
			} else if resp.Result != nil {
				t.Errorf("allowed response carries a status: %+v", resp.Result)
			}
			if strings.Join(resp.Warnings, "|") != strings.Join(tc.warnings, "|") {
				t.Errorf("warnings = %q, want %q", resp.Warnings, tc.warnings)
			}
			if len(resp.AuditAnnotations) != len(tc.annotations) {
				t.Errorf("auditAnnotations = %v, want %v", resp.AuditAnnotations, tc.annotations)
			}
			for k, v := range tc.annotations {
				if resp.AuditAnnotations[k] != v {
					t.Errorf("auditAnnotations[%s] = %q, want %q", k, resp.AuditAnnotations[k], v)
				}
			}
			rec := sink.last(t)
			if rec.Decision != tc.decision || rec.Evaluated != tc.evaluated || rec.DryRun != tc.dryRun {
				t.Errorf("audit record = %+v, want decision %s evaluated %v dryRun %v", rec, tc.decision, tc.evaluated, tc.dryRun)
			}
			if rec.UID == "" || rec.User != "alice" || rec.Object.Kind == "" || rec.Operation == "" {
				t.Errorf("audit record misses request fields: %+v", rec)
			}
			if tc.evaluated && rec.Bundle.Revision != d.Revision() {
				t.Errorf("audit revision = %q, want %q", rec.Bundle.Revision, d.Revision())
			}
		})
	}
}

func TestAuditJSONLines(t *testing.T) {
	var b strings.Builder
	j := audit.NewJSONLines(&b)
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/charter.yaml")), Audit: j, Logger: quiet})
	post(h, "application/json", mustJSON(t, review("CREATE", podObject("default", privileged), func(r map[string]any) { r["dryRun"] = true })))
	post(h, "application/json", mustJSON(t, review("CREATE", podObject("default", compliant))))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), b.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "time", "source", "bundle", "override", "uid", "user", "operation", "object", "decision", "articles", "dryRun"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("audit line has no %q: %s", k, lines[0])
		}
	}
	if rec["decision"] != "denied" || rec["dryRun"] != true {
		t.Errorf("audit line = %s", lines[0])
	}
	obj := rec["object"].(map[string]any)
	if obj["kind"] != "Pod" || obj["namespace"] != "default" || obj["name"] != "p" {
		t.Errorf("object reference = %v", obj)
	}
}

// TestDecideConcurrent exercises the handler from many goroutines (run with -race).
func TestDecideConcurrent(t *testing.T) {
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/charter.yaml")), Logger: quiet})
	bodies := [][]byte{
		mustJSON(t, review("CREATE", podObject("default", privileged))),
		mustJSON(t, review("CREATE", podObject("default", compliant))),
	}
	errs := make(chan string, 64)
	for g := range 8 {
		go func() {
			for i := range 8 {
				w := post(h, "application/json", bodies[(g+i)%2])
				var ar struct {
					Response struct{ Allowed bool }
				}
				if err := json.Unmarshal(w.Body.Bytes(), &ar); err != nil || ar.Response.Allowed != ((g+i)%2 == 1) {
					errs <- w.Body.String()
					continue
				}
				errs <- ""
			}
		}()
	}
	for range 64 {
		if e := <-errs; e != "" {
			t.Error("wrong answer:", e)
		}
	}
}
