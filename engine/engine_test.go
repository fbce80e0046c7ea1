package engine

import (
	"context"
	"testing"

	"github.com/charter-dev/charter/bundles"
)

func load(t testing.TB, path string) *Engine {
	t.Helper()
	b, _, err := bundles.FromCharters([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func pod(containers ...map[string]any) map[string]any {
	list := make([]any, len(containers))
	for i, c := range containers {
		list[i] = c
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "p", "namespace": "default"},
		"spec":     map[string]any{"containers": list},
	}
}

func TestDecide(t *testing.T) {
	e := load(t, "testdata/charter.yaml")
	priv := map[string]any{"name": "app", "securityContext": map[string]any{"privileged": true}, "resources": map[string]any{"limits": map[string]any{"memory": "2Gi"}}}
	ok := map[string]any{"name": "ok", "resources": map[string]any{"limits": map[string]any{"memory": "512Mi"}}}
	deploy := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "d", "namespace": "default"},
		"spec":     map[string]any{"template": map[string]any{"spec": pod(priv)["spec"]}},
	}
	sys := pod(priv)
	sys["metadata"].(map[string]any)["namespace"] = "kube-system"
	cases := []struct {
		name      string
		input     map[string]any
		allowed   bool
		articles  []string
		firstPath string
	}{
		{"privileged pod", pod(priv), false, []string{"AD-001", "AD-003"}, "spec.containers[0].securityContext.privileged"},
		{"compliant pod", pod(ok), true, nil, ""},
		{"privileged template", deploy, false, []string{"AD-001", "AD-003"}, "spec.template.spec.containers[0].securityContext.privileged"},
		{"excluded namespace", sys, true, nil, ""},
		{"nodeport", map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "s"}, "spec": map[string]any{"type": "NodePort"}}, false, []string{"AD-004"}, ""},
		{"admission review", map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{"uid": "1", "operation": "CREATE", "namespace": "default", "object": pod(priv)}}, false, []string{"AD-001", "AD-003"}, "spec.containers[0].securityContext.privileged"},
		{"delete is not matched", map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{"uid": "1", "operation": "DELETE", "namespace": "default", "oldObject": pod(priv)}}, true, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.Decide(context.Background(), tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != tc.allowed {
				t.Errorf("allowed = %v, want %v (%+v)", d.Allowed, tc.allowed, d)
			}
			var got []string
			for _, f := range d.All() {
				got = append(got, f.Article)
			}
			if len(got) != len(tc.articles) {
				t.Fatalf("articles = %v, want %v (%+v)", got, tc.articles, d)
			}
			for i := range got {
				if got[i] != tc.articles[i] {
					t.Errorf("articles = %v, want %v", got, tc.articles)
				}
			}
			if tc.firstPath != "" && d.All()[0].Path != tc.firstPath {
				t.Errorf("path = %q, want %q", d.All()[0].Path, tc.firstPath)
			}
			t.Logf("%+v", d)
		})
	}
}
