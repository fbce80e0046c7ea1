package webhook

import (
	"strings"
	"testing"
)

func labelled(p map[string]any, labels map[string]any) map[string]any {
	p["metadata"].(map[string]any)["labels"] = labels
	return p
}

func configMap(labels map[string]any) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "settings", "namespace": "default", "labels": labels}}
}

func asKind(group, kind, resource, sub string) func(req map[string]any) {
	return func(req map[string]any) {
		req["kind"] = map[string]any{"group": group, "version": "v1", "kind": kind}
		req["resource"] = map[string]any{"group": group, "version": "v1", "resource": resource}
		if sub != "" {
			req["subResource"] = sub
		}
	}
}

func withOld(old map[string]any) func(req map[string]any) {
	return func(req map[string]any) { req["oldObject"] = old }
}

// TestOperations: every operation the bundle names is decided (DELETE,
// CONNECT), and an UPDATE, of the object or through a subresource that
// carries it, is denied only for what it changes (Pod Security Admission's
// rule that updates must not lock workloads).
func TestOperations(t *testing.T) {
	d := loadEngine(t, "testdata/operations.yaml")
	team := map[string]any{"team": "shop"}
	legacy := func() map[string]any {
		return labelled(podObject("default", privileged), map[string]any{"team": "shop"})
	}
	debugged := func(c container) map[string]any {
		p := legacy()
		p["spec"].(map[string]any)["ephemeralContainers"] = []any{map[string]any(c)}
		return p
	}
	finalized := legacy()
	finalized["metadata"].(map[string]any)["finalizers"] = []any{"example.com/hold"}
	exec := func(cmd ...any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "PodExecOptions", "command": cmd, "stdout": true,
			"metadata": map[string]any{"name": "p", "namespace": "default"}}
	}
	cases := []struct {
		name    string
		review  map[string]any
		allowed bool
		message string // in the denial, or in a warning when allowed
	}{
		{"privileged pod created", review("CREATE", legacy()), false, "[OP-001]"},
		{"legacy privileged pod relabelled", review("UPDATE", labelled(legacy(), map[string]any{"team": "shop", "tier": "web"}),
			withOld(legacy())), true, "already violated before this update, so not denied: container app is privileged"},
		{"legacy privileged pod's finalizer removed", review("UPDATE", legacy(), withOld(finalized)), true, "[OP-001]"},
		{"status update of a legacy privileged pod", review("UPDATE", legacy(), withOld(legacy()), asKind("", "Pod", "pods", "status")), true, "[OP-001]"},
		{"required label removed by an update", review("UPDATE", labelled(legacy(), nil), withOld(legacy())), false, "[OP-002] pod has no team label"},
		{"required label removed through pods/status", review("UPDATE", labelled(podObject("default", compliant), nil),
			withOld(labelled(podObject("default", compliant), team)), asKind("", "Pod", "pods", "status")), false, "[OP-002]"},
		{"privileged ephemeral container added", review("UPDATE", debugged(privileged), withOld(legacy()), asKind("", "Pod", "pods", "ephemeralcontainers")),
			false, "[OP-001] container app is privileged (at spec.ephemeralContainers[0].securityContext.privileged)"},
		{"compliant ephemeral container added to a legacy pod", review("UPDATE", debugged(compliant), withOld(legacy()), asKind("", "Pod", "pods", "ephemeralcontainers")),
			true, "[OP-001]"},
		{"new violation at a known field", review("UPDATE", labelled(podObject("default", compliant, privileged), team),
			withOld(labelled(podObject("default", compliant, compliant), team))), false, "spec.containers[1].securityContext.privileged"},
		{"protected ConfigMap deleted", review("DELETE", configMap(nil), asKind("", "ConfigMap", "configmaps", ""), func(r map[string]any) {
			r["object"] = nil
			r["oldObject"] = configMap(map[string]any{"protected": "true"})
		}), false, "[OP-003] ConfigMap settings is protected"},
		{"other ConfigMap deleted", review("DELETE", configMap(nil), asKind("", "ConfigMap", "configmaps", ""), func(r map[string]any) {
			r["object"] = nil
			r["oldObject"] = configMap(nil)
		}), true, ""},
		{"privileged pod deleted (no article names DELETE for pods)", review("DELETE", legacy(), func(r map[string]any) {
			r["object"], r["oldObject"] = nil, legacy()
		}), true, ""},
		{"exec of a shell", review("CONNECT", exec("sh", "-c", "id"), asKind("", "PodExecOptions", "pods", "exec")), false, "[OP-004] exec of a shell into p"},
		{"exec of another command", review("CONNECT", exec("date"), asKind("", "PodExecOptions", "pods", "exec")), true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := &memorySink{}
			h := NewHandler(HandlerOptions{Source: Fixed(d), Audit: sink, Logger: quiet})
			resp := decodeResponse(t, post(h, "application/json", mustJSON(t, tc.review)))
			if resp.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v: %+v", resp.Allowed, tc.allowed, resp.Result)
			}
			got := strings.Join(resp.Warnings, "\n")
			if !tc.allowed {
				got = resp.Result.Message
			}
			if !strings.Contains(got, tc.message) {
				t.Errorf("answer %q does not contain %q", got, tc.message)
			}
			if rec := sink.last(t); !rec.Evaluated {
				t.Errorf("not evaluated: %+v", rec)
			}
		})
	}
}

// TestUpdateOnlyDeniesWhatItIntroduces: a denied update names only the new
// violations, and lists the old ones as warnings.
func TestUpdateOnlyDeniesWhatItIntroduces(t *testing.T) {
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/operations.yaml")), Logger: quiet})
	old := podObject("default", privileged)
	now := podObject("default", privileged, privileged)
	resp := decodeResponse(t, post(h, "application/json", mustJSON(t, review("UPDATE", now, withOld(old)))))
	if resp.Allowed {
		t.Fatal("a second privileged container was admitted")
	}
	if msg := resp.Result.Message; !strings.Contains(msg, "spec.containers[1]") || strings.Contains(msg, "spec.containers[0]") || strings.Contains(msg, "OP-002") {
		t.Errorf("denial %q should name only the new container", msg)
	}
	warned := strings.Join(resp.Warnings, "\n")
	for _, want := range []string{"[OP-001] already violated before this update", "spec.containers[0]", "[OP-002] already violated"} {
		if !strings.Contains(warned, want) {
			t.Errorf("warnings %q do not contain %q", warned, want)
		}
	}
}
