package kinds

import (
	"reflect"
	"testing"
)

func TestDefaultNamespace(t *testing.T) {
	pod := func(meta any) map[string]any {
		o := map[string]any{"apiVersion": "v1", "kind": "Pod"}
		if meta != nil {
			o["metadata"] = meta
		}
		return o
	}
	cases := []struct {
		name   string
		in     map[string]any
		ns     string
		custom []Custom
		want   map[string]any
	}{
		{"namespaced without namespace", pod(map[string]any{"name": "p"}), "default", nil, pod(map[string]any{"name": "p", "namespace": "default"})},
		{"empty namespace counts as none", pod(map[string]any{"name": "p", "namespace": ""}), "shop", nil, pod(map[string]any{"name": "p", "namespace": "shop"})},
		{"no metadata at all", pod(nil), "default", nil, pod(map[string]any{"namespace": "default"})},
		{"namespace given is kept", pod(map[string]any{"name": "p", "namespace": "shop"}), "default", nil, pod(map[string]any{"name": "p", "namespace": "shop"})},
		{"cluster-scoped never gets one", map[string]any{"kind": "ClusterRole", "metadata": map[string]any{"name": "r"}}, "default", nil, map[string]any{"kind": "ClusterRole", "metadata": map[string]any{"name": "r"}}},
		{"Namespace itself never gets one", map[string]any{"kind": "Namespace", "metadata": map[string]any{"name": "n"}}, "default", nil, map[string]any{"kind": "Namespace", "metadata": map[string]any{"name": "n"}}},
		{"custom resources are namespaced", map[string]any{"kind": "Rollout", "metadata": map[string]any{"name": "r"}}, "default", nil, map[string]any{"kind": "Rollout", "metadata": map[string]any{"name": "r", "namespace": "default"}}},
		{"AdmissionReview is left alone", map[string]any{"kind": "AdmissionReview", "request": map[string]any{}}, "default", nil, map[string]any{"kind": "AdmissionReview", "request": map[string]any{}}},
		{"malformed metadata is left alone", pod("x"), "default", nil, pod("x")},
		{"declared cluster-scoped custom kind never gets one", map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"}}, "default", []Custom{{Group: "example.com", Version: "v1", Kind: "Widget"}}, map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"}}},
		{"declared namespaced custom kind gets one", map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"}}, "default", []Custom{{Group: "example.com", Version: "v1", Kind: "Widget", Namespaced: true}}, map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w", "namespace": "default"}}},
		{"a cluster-scoped custom kind of another group does not count", map[string]any{"apiVersion": "other.io/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"}}, "default", []Custom{{Group: "example.com", Version: "v1", Kind: "Widget"}}, map[string]any{"apiVersion": "other.io/v1", "kind": "Widget", "metadata": map[string]any{"name": "w", "namespace": "default"}}},
		{"no default namespace", pod(map[string]any{"name": "p"}), "", nil, pod(map[string]any{"name": "p"})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := deepCopy(tc.in)
			got := DefaultNamespace(tc.in, tc.ns, tc.custom...)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(tc.in, before) {
				t.Errorf("input modified: %v", tc.in)
			}
		})
	}
}

func deepCopy(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = deepCopy(sub)
		}
		out[k] = v
	}
	return out
}

// The kinds served outside client-go's scheme are cluster-scoped, so they
// never get a default namespace.
func TestNamespacedOutsideScheme(t *testing.T) {
	for k := range servedOutsideScheme {
		if Namespaced(k) {
			t.Errorf("Namespaced(%s) = true, want false", k)
		}
	}
}
