package cli

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/charter-dev/charter/report"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	fakedynamic "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
)

// preferredDiscovery is client-go's fake discovery answering
// ServerPreferredResources with its resources (the fake answers nothing).
type preferredDiscovery struct{ *fakediscovery.FakeDiscovery }

func (d preferredDiscovery) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	return d.Resources, nil
}

// fakeCluster serves the kinds examples/charters/cluster-data.yaml matches
// and reads, and ConfigMaps, holding objects, through client-go's fake
// clients.
func fakeCluster(objects ...map[string]any) *cluster {
	type kind struct {
		gv, resource, kind string
		namespaced         bool
	}
	kinds := []kind{
		{"v1", "namespaces", "Namespace", false}, {"v1", "services", "Service", true},
		{"v1", "persistentvolumeclaims", "PersistentVolumeClaim", true},
		{"networking.k8s.io/v1", "ingresses", "Ingress", true}, {"storage.k8s.io/v1", "storageclasses", "StorageClass", false},
		{"policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", true}, {"apps/v1", "deployments", "Deployment", true},
		{"v1", "configmaps", "ConfigMap", true},
	}
	listKinds := map[schema.GroupVersionResource]string{}
	byGV := map[string]*metav1.APIResourceList{}
	var lists []*metav1.APIResourceList
	for _, k := range kinds {
		gv, _ := schema.ParseGroupVersion(k.gv)
		listKinds[gv.WithResource(k.resource)] = k.kind + "List"
		l := byGV[k.gv]
		if l == nil {
			l = &metav1.APIResourceList{GroupVersion: k.gv}
			byGV[k.gv] = l
			lists = append(lists, l)
		}
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: k.resource, Kind: k.kind, Namespaced: k.namespaced, Verbs: metav1.Verbs{"get", "list", "watch"}})
	}
	var objs []runtime.Object
	for _, o := range objects {
		objs = append(objs, &unstructured.Unstructured{Object: o})
	}
	return &cluster{
		dyn:  fakedynamic.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...),
		disc: preferredDiscovery{&fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: lists}}},
	}
}

// TestDiffLiveClusterData: a live charter diff decides cluster queries with
// the cluster's own objects, as a live audit scan does (review finding: it
// decided them against no objects at all, so a PersistentVolumeClaim of an
// existing StorageClass showed as newly denied).
func TestDiffLiveClusterData(t *testing.T) {
	ctx := context.Background()
	oldP := policyOptions{Charters: []string{"../../examples/charters/container-limits.yaml"}}
	oldE, _, err := oldP.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	newP := policyOptions{Charters: []string{"../../examples/charters/cluster-data.yaml"}}
	newE, _, err := newP.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop", "labels": map[string]any{"team": "shop"}}}
	pvc := map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": "data", "namespace": "shop"}, "spec": map[string]any{"storageClassName": "fast"}}
	fast := map[string]any{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": map[string]any{"name": "fast"}, "provisioner": "x"}
	for _, tc := range []struct {
		name       string
		objects    []map[string]any
		pvcDenied  bool
		wantInDiff string
	}{
		{"the StorageClass exists in the cluster", []map[string]any{ns, pvc, fast}, false, ""},
		{"it does not", []map[string]any{ns, pvc}, true, "StorageClass fast does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := report.Diff{}
			if err := diffLive(ctx, fakeCluster(tc.objects...), clusterOptions{ChunkSize: 500}, oldE, newE, &d, io.Discard); err != nil {
				t.Fatal(err)
			}
			denied := false
			var messages []string
			for _, c := range d.Changes {
				if c.Object.Kind == "PersistentVolumeClaim" && c.Change == report.NewlyDenied {
					denied = true
					for _, v := range c.Added {
						messages = append(messages, v.Message)
					}
				}
			}
			// Of these kinds only the PVC is matched by an article: the one object decided.
			if d.Objects != 1 || denied != tc.pvcDenied || !strings.Contains(strings.Join(messages, "\n"), tc.wantInDiff) {
				t.Errorf("%d objects (want %d), PVC newly denied %v (want %v), findings %q (want %q); changes %+v", d.Objects, 1, denied, tc.pvcDenied, messages, tc.wantInDiff, d.Changes)
			}
		})
	}
}
