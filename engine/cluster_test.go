package engine

import (
	"reflect"
	"testing"
)

// TestClusterDocument: objects are arranged by kind, namespace and name;
// managed fields and the data of Secrets are dropped; objects without a
// kind or a name are left out; the inputs are not modified.
func TestClusterDocument(t *testing.T) {
	secret := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s", "namespace": "shop",
		"managedFields": []any{map[string]any{"manager": "kubectl"}}}, "data": map[string]any{"password": "aHVudGVyMg=="}, "stringData": map[string]any{"a": "b"}, "type": "Opaque"}
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop"}}
	got := ClusterDocument([]map[string]any{secret, ns, {"kind": "Pod"}, {"metadata": map[string]any{"name": "x"}}})
	want := map[string]any{
		"Secret":    map[string]any{"shop": map[string]any{"s": map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s", "namespace": "shop"}, "type": "Opaque"}}},
		"Namespace": map[string]any{"": map[string]any{"shop": ns}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if secret["data"] == nil || secret["metadata"].(map[string]any)["managedFields"] == nil {
		t.Fatal("the input object was modified")
	}
}
