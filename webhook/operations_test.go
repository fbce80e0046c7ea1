package webhook

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-dev/charter/engine"
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
		{"compliant ephemeral container added to a legacy pod (spec changed: decided in full)", review("UPDATE", debugged(compliant), withOld(legacy()), asKind("", "Pod", "pods", "ephemeralcontainers")),
			false, "[OP-001] container app is privileged (at spec.containers[0]"},
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

// TestUpdateOnlyDeniesWhatItIntroduces: an update of metadata only is
// denied for the violations it brings, and lists the old ones as warnings.
func TestUpdateOnlyDeniesWhatItIntroduces(t *testing.T) {
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/operations.yaml")), Logger: quiet})
	old := labelled(podObject("default", privileged), map[string]any{"team": "shop"})
	now := podObject("default", privileged)
	resp := decodeResponse(t, post(h, "application/json", mustJSON(t, review("UPDATE", now, withOld(old)))))
	if resp.Allowed {
		t.Fatal("removing the team label was admitted")
	}
	if msg := resp.Result.Message; !strings.Contains(msg, "[OP-002]") || strings.Contains(msg, "OP-001") {
		t.Errorf("denial %q should name only the removed label", msg)
	}
	warned := strings.Join(resp.Warnings, "\n")
	for _, want := range []string{"[OP-001] already violated before this update", "spec.containers[0]"} {
		if !strings.Contains(warned, want) {
			t.Errorf("warnings %q do not contain %q", warned, want)
		}
	}
}

// TestUpdateOfSpecDecidedInFull: an update that changes more than metadata
// and status excuses nothing, so new violations of an article the object
// already breaks are denied (hostNetwork -> hostNetwork+hostPID+hostIPC:
// the engine names only the first field of each article).
func TestUpdateOfSpecDecidedInFull(t *testing.T) {
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/operations.yaml")), Logger: quiet})
	host := func(fields ...string) map[string]any {
		p := labelled(podObject("default", compliant), map[string]any{"team": "shop"})
		for _, f := range fields {
			p["spec"].(map[string]any)[f] = true
		}
		return p
	}
	resp := decodeResponse(t, post(h, "application/json", mustJSON(t,
		review("UPDATE", host("hostNetwork", "hostPID", "hostIPC"), withOld(host("hostNetwork"))))))
	if resp.Allowed {
		t.Fatalf("adding hostPID and hostIPC was admitted; warnings %q", resp.Warnings)
	}
	if !strings.Contains(resp.Result.Message, "[OP-006] pod shares a host namespace") {
		t.Errorf("denial %q does not name OP-006", resp.Result.Message)
	}
	// Relabelling the same pod changes metadata only: still allowed.
	relabelled := host("hostNetwork")
	relabelled["metadata"].(map[string]any)["labels"] = map[string]any{"team": "shop", "tier": "web"}
	resp = decodeResponse(t, post(h, "application/json", mustJSON(t, review("UPDATE", relabelled, withOld(host("hostNetwork"))))))
	if !resp.Allowed {
		t.Fatalf("relabelling a legacy pod was denied: %+v", resp.Result)
	}
}

// TestOldObjectUndecidedKeepsDenial: when the old object cannot be decided,
// the update's full denial stands, even with fail-open; both evaluations run
// under the request's one deadline.
func TestOldObjectUndecidedKeepsDenial(t *testing.T) {
	var mu sync.Mutex
	var deadlines []time.Time
	calls := 0
	d := fakeDecider{func(ctx context.Context, _ any) (engine.Decision, error) {
		mu.Lock()
		defer mu.Unlock()
		dl, _ := ctx.Deadline()
		deadlines = append(deadlines, dl)
		calls++
		if calls == 1 {
			time.Sleep(5 * time.Millisecond)
			return engine.Decision{Violations: []engine.Finding{{Article: "OP-006", Message: "pod shares a host namespace"}}}, nil
		}
		return engine.Decision{}, errors.New("old object: undefined function")
	}}
	h := NewHandler(HandlerOptions{Source: Fixed(d), FailOpen: true, Logger: quiet})
	old := labelled(podObject("default", compliant), map[string]any{"team": "shop"})
	resp := decodeResponse(t, post(h, "application/json", mustJSON(t, review("UPDATE", podObject("default", compliant), withOld(old)))))
	if resp.Allowed {
		t.Fatalf("update admitted although its old object could not be decided: %+v", resp)
	}
	if !strings.Contains(resp.Result.Message, "[OP-006]") {
		t.Errorf("denial %q does not name OP-006", resp.Result.Message)
	}
	if len(deadlines) != 2 || !deadlines[0].Equal(deadlines[1]) {
		t.Errorf("evaluations ran under deadlines %v, want one shared deadline", deadlines)
	}
}

// TestStarDoesNotDecideDelete: an article with operations ["*"] decides
// CREATE and UPDATE; deleting a pod that breaks it is allowed, while an
// article that names DELETE still denies.
func TestStarDoesNotDecideDelete(t *testing.T) {
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/star.yaml")), Logger: quiet})
	forbidden := func() map[string]any {
		return labelled(podObject("default", compliant), map[string]any{"team": "shop", "forbidden": "true"})
	}
	resp := decodeResponse(t, post(h, "application/json", mustJSON(t, review("CREATE", forbidden()))))
	if resp.Allowed || !strings.Contains(resp.Result.Message, "[OP-007]") {
		t.Fatalf("CREATE of a forbidden pod: allowed=%v %+v", resp.Allowed, resp.Result)
	}
	resp = decodeResponse(t, post(h, "application/json", mustJSON(t, review("DELETE", forbidden(), func(r map[string]any) {
		r["object"], r["oldObject"] = forbidden(), forbidden()
	}))))
	if !resp.Allowed {
		t.Fatalf("deleting a pod that breaks a [\"*\"] article was denied: %+v", resp.Result)
	}
	cm := configMap(map[string]any{"protected": "true", "forbidden": "true"})
	resp = decodeResponse(t, post(h, "application/json", mustJSON(t, review("DELETE", cm, asKind("", "ConfigMap", "configmaps", ""), func(r map[string]any) {
		r["oldObject"] = cm
	}))))
	if resp.Allowed || !strings.Contains(resp.Result.Message, "[OP-003]") || strings.Contains(resp.Result.Message, "OP-007") {
		t.Fatalf("DELETE of a protected ConfigMap: allowed=%v %+v", resp.Allowed, resp.Result)
	}
	// OP-008 (warn, "*") does not decide a DELETE either: no warning.
	if len(resp.Warnings) != 0 {
		t.Errorf("DELETE warned by a [\"*\"] article: %q", resp.Warnings)
	}
	resp = decodeResponse(t, post(h, "application/json", mustJSON(t, review("CREATE", cm, asKind("", "ConfigMap", "configmaps", "")))))
	if !strings.Contains(strings.Join(resp.Warnings, "\n"), "[OP-008]") {
		t.Errorf("CREATE not warned by OP-008: %q", resp.Warnings)
	}
}

// TestRulesAndHandlerAgree: the webhook configuration sends a request
// (resource, operation) exactly when the handler decides it for some
// article on that resource: both use decidedOperations, so "*" sends and
// decides CREATE and UPDATE only, DELETE only for the article naming it.
func TestRulesAndHandlerAgree(t *testing.T) {
	d := loadEngine(t, "testdata/star.yaml")
	info := d.(catalogue).Bundle().Info
	rules := RulesFor(info)
	sent := map[string]bool{}
	for _, r := range rules.Main {
		for _, op := range r.Operations {
			if op == "*" {
				t.Errorf("rule %v sends every operation, the handler never decides every one", r)
			}
			for _, res := range r.Resources {
				sent[res+" "+string(op)] = true
			}
		}
	}
	for _, res := range []string{"pods", "configmaps"} {
		for _, op := range []string{"CREATE", "UPDATE", "DELETE", "CONNECT"} {
			decided := false
			for id, a := range info.Articles {
				for _, kind := range a.Kinds {
					for _, ref := range resourcesOf(kind, nil, nil) {
						kept := decidedOnly(d, op, engine.Decision{Violations: []engine.Finding{{Article: id}}})
						decided = decided || ref.resource == res && len(kept.Violations) == 1
					}
				}
			}
			if sent[res+" "+op] != decided {
				t.Errorf("%s %s: the configuration sends it: %v, the handler decides it: %v", op, res, sent[res+" "+op], decided)
			}
		}
	}
	if !sent["configmaps DELETE"] || sent["pods DELETE"] {
		t.Errorf("want DELETE sent for configmaps (OP-003) and not for pods; sent %v", sent)
	}
}
