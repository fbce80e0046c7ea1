package webhook

import (
	"strings"
	"testing"
)

// TestInstancesInTheWebhook: one parameterised charter instantiated twice
// (examples/charters/team-limits.yaml) decides each namespace with its own
// instance's values and action.
func TestInstancesInTheWebhook(t *testing.T) {
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "../examples/charters/team-limits.yaml")), Logger: quiet})
	big := func(ns string) map[string]any {
		return podObject(ns, container{"name": "app", "image": "app:1", "imagePullPolicy": "Always",
			"resources": map[string]any{"limits": map[string]any{"cpu": "3", "memory": "16Gi"}}})
	}
	small := func(ns string) map[string]any {
		return podObject(ns, container{"name": "app", "image": "app:1", "imagePullPolicy": "Always",
			"resources": map[string]any{"limits": map[string]any{"cpu": "3", "memory": "512Mi"}}})
	}
	for _, tc := range []struct {
		name    string
		object  map[string]any
		allowed bool
		answer  string // in the denial, or in the warnings when allowed
	}{
		{"prod: 16Gi is over prod's 8Gi", big("prod-eu"), false, "[prod.LIM-001] container app: spec.containers[0].resources.limits.memory is 16Gi, above the limit (cpu 4, memory 8Gi)"},
		{"prod: 3 CPUs are within prod's 4", small("prod-eu"), true, ""},
		{"dev: 3 CPUs warn over dev's 500m", small("dev-a"), true, "[dev.LIM-001] container app: spec.containers[0].resources.limits.cpu is 3, above the limit (cpu 500m, memory 1Gi)"},
		{"elsewhere: no instance applies", big("shop"), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := decodeResponse(t, post(h, "application/json", mustJSON(t, review("CREATE", tc.object))))
			if resp.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v: %+v", resp.Allowed, tc.allowed, resp.Result)
			}
			got := strings.Join(resp.Warnings, "\n")
			if !tc.allowed {
				got = resp.Result.Message
			}
			if tc.answer == "" && got != "" || !strings.Contains(got, tc.answer) {
				t.Errorf("answer %q, want %q", got, tc.answer)
			}
		})
	}
}

// TestUpdateRulesInTheWebhook: the oldObject operators decide UPDATE
// reviews (examples/charters/update-rules.yaml).
func TestUpdateRulesInTheWebhook(t *testing.T) {
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "../examples/charters/update-rules.yaml")), Logger: quiet})
	withSA := func(sa string) map[string]any {
		p := podObject("shop", compliant)
		p["spec"].(map[string]any)["serviceAccountName"] = sa
		return p
	}
	node := func(taints ...any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "n1"}, "spec": map[string]any{"taints": taints}}
	}
	gpu := map[string]any{"key": "gpu", "effect": "NoSchedule"}
	db := map[string]any{"key": "dedicated", "value": "db", "effect": "NoSchedule"}
	for _, tc := range []struct {
		name    string
		review  map[string]any
		allowed bool
		message string
	}{
		{"service account changed", review("UPDATE", withSA("admin"), withOld(withSA("web"))), false, "[UPD-001] Pod p: spec.serviceAccountName may not change"},
		{"service account kept", review("UPDATE", withSA("web"), withOld(withSA("web"))), true, ""},
		{"taint removed", review("UPDATE", node(gpu), withOld(node(db, gpu)), asKind("", "Node", "nodes", "")), false, `[UPD-002] Node n1: taint {"effect":"NoSchedule","key":"dedicated","value":"db"} (oldObject.spec.taints[0]) may not be removed`},
		{"taint added", review("UPDATE", node(db, gpu), withOld(node(gpu)), asKind("", "Node", "nodes", "")), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := decodeResponse(t, post(h, "application/json", mustJSON(t, tc.review)))
			if resp.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v: %+v", resp.Allowed, tc.allowed, resp.Result)
			}
			if !tc.allowed && !strings.Contains(resp.Result.Message, tc.message) {
				t.Errorf("denial %q does not contain %q", resp.Result.Message, tc.message)
			}
		})
	}
}
