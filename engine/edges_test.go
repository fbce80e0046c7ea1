package engine

import (
	"context"
	"testing"
)

func TestEdges(t *testing.T) {
	e := load(t, "testdata/edges.yaml")
	cm := func(labels map[string]any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cm", "namespace": "default", "labels": labels}}
	}
	review := func(op string, key string, obj map[string]any) map[string]any {
		return map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{"uid": "u", "operation": op, "namespace": "default", key: obj}}
	}
	rootPod := pod(map[string]any{"name": "app", "image": "docker.io/library/nginx:latest"})
	rootPod["metadata"].(map[string]any)["annotations"] = map[string]any{"owner": "me"}
	rootPod["spec"].(map[string]any)["securityContext"] = map[string]any{"runAsUser": 0}
	annotated := pod(map[string]any{"name": "app", "image": "x:1"})
	annotated["metadata"].(map[string]any)["annotations"] = map[string]any{"owner": "me", "apparmor.example/a.b": "unconfined", "apparmor.example/c": "runtime/default"}
	cases := []struct {
		name  string
		input map[string]any
		want  map[string]string // article → message
	}{
		{"delete carries the old object", review("DELETE", "oldObject", cm(map[string]any{"protected": "true", "env": "dev"})), map[string]string{"E-delete": "cm is protected"}},
		{"create of the same object is not matched", review("CREATE", "object", cm(map[string]any{"protected": "true", "env": "dev"})), map[string]string{}},
		{"star matches kinds without pods", cm(nil), map[string]string{"E-star": "ConfigMap cm has no owner at metadata.annotations.owner"}},
		{"NotIn matches a missing label, not a listed value", cm(map[string]any{"env": "dev"}), map[string]string{}},
		{"notMatches over glob keys that contain dots", annotated, map[string]string{
			"E-notmatches": `annotation metadata.annotations["apparmor.example/a.b"] is unconfined`,
		}},
		{"any over container and pod roots, glob across dots", rootPod, map[string]string{
			"E-mixed-roots": "app runs as root (spec.securityContext.runAsUser)",
			"E-glob":        "app uses docker.io/library/nginx:latest",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.Decide(context.Background(), tc.input)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range d.All() {
				got[f.Article] = f.Message
			}
			if len(got) != len(tc.want) {
				t.Fatalf("findings = %v, want %v", got, tc.want)
			}
			for a, m := range tc.want {
				if got[a] != m {
					t.Errorf("%s: message %q, want %q", a, got[a], m)
				}
			}
		})
	}
}
