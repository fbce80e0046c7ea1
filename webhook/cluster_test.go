package webhook

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/compiler"
	"github.com/open-policy-agent/opa/v1/ast"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
)

var (
	storageClasses  = schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
	namespaces      = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	services        = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	ingresses       = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	pdbs            = schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}
	secrets         = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	knativeServices = schema.GroupVersionResource{Group: "serving.knative.dev", Version: "v1", Resource: "services"}
	gizmos          = schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "gizmos"}
)

// fakeDiscovery serves the resources of the cluster-data example's kinds.
type fakeDiscovery struct{}

func (fakeDiscovery) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	verbs := metav1.Verbs{"get", "list", "watch"}
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "namespaces", Kind: "Namespace", Verbs: verbs}, {Name: "services", Namespaced: true, Kind: "Service", Verbs: verbs}, {Name: "services/status", Kind: "Service", Verbs: verbs}, {Name: "secrets", Namespaced: true, Kind: "Secret", Verbs: verbs}}},
		{GroupVersion: "storage.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "storageclasses", Kind: "StorageClass", Verbs: verbs}}},
		{GroupVersion: "networking.k8s.io/v1", APIResources: []metav1.APIResource{{Name: "ingresses", Namespaced: true, Kind: "Ingress", Verbs: verbs}}},
		{GroupVersion: "policy/v1", APIResources: []metav1.APIResource{{Name: "poddisruptionbudgets", Namespaced: true, Kind: "PodDisruptionBudget", Verbs: verbs}}},
		{GroupVersion: "serving.knative.dev/v1", APIResources: []metav1.APIResource{{Name: "services", Namespaced: true, Kind: "Service", Verbs: verbs}}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{{Name: "gizmos", Kind: "Widget", Verbs: verbs}}},
	}, nil
}

func obj(apiVersion, kind, ns, name string, extra map[string]any) *unstructured.Unstructured {
	meta := map[string]any{"name": name, "managedFields": []any{map[string]any{"manager": "kubectl"}}}
	if ns != "" {
		meta["namespace"] = ns
	}
	o := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": meta}
	for k, v := range extra {
		o[k] = v
	}
	return &unstructured.Unstructured{Object: o}
}

func storageClass(name string) *unstructured.Unstructured {
	return obj("storage.k8s.io/v1", "StorageClass", "", name, map[string]any{"provisioner": "example.com/" + name})
}

type clusterFixture struct {
	dyn  *dynamicfake.FakeDynamicClient
	meta *metadatafake.FakeMetadataClient // the same objects, as metadata
	inf  *Informers
	cd   *ClusterData
}

func newClusterFixture(t *testing.T, max int, objects ...runtime.Object) *clusterFixture {
	t.Helper()
	return newClusterFixtureWith(t, ClusterDataOptions{MaxObjects: max}, objects...)
}

// newClusterFixtureWith serves objects through a dynamic and a metadata
// client (the same objects, both ways, as an apiserver does).
func newClusterFixtureWith(t *testing.T, o ClusterDataOptions, objects ...runtime.Object) *clusterFixture {
	t.Helper()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		storageClasses: "StorageClassList", namespaces: "NamespaceList", services: "ServiceList", ingresses: "IngressList", pdbs: "PodDisruptionBudgetList",
		secrets: "SecretList", knativeServices: "ServiceList", gizmos: "WidgetList",
	}, objects...)
	meta := metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme())
	for _, o := range objects {
		gvr, m := asMetadata(t, o.(*unstructured.Unstructured))
		if err := meta.Tracker().Create(gvr, m, m.Namespace); err != nil {
			t.Fatal(err)
		}
	}
	inf := NewInformers(dyn, 0, WithMetadataClient(meta))
	t.Cleanup(inf.Stop)
	o.Informers, o.Logger = inf, quiet
	if o.Discovery == nil {
		o.Discovery = fakeDiscovery{}
	}
	if o.SyncTimeout == 0 {
		o.SyncTimeout = 20 * time.Second
	}
	if o.Retry == 0 {
		o.Retry = 100 * time.Millisecond
	}
	cd, err := NewClusterData(o)
	if err != nil {
		t.Fatal(err)
	}
	return &clusterFixture{dyn: dyn, meta: meta, inf: inf, cd: cd}
}

// fixtureResources are the resources of the fixture's objects.
var fixtureResources = map[string]schema.GroupVersionResource{
	"storage.k8s.io/v1/StorageClass": storageClasses, "v1/Namespace": namespaces, "v1/Service": services, "v1/Secret": secrets,
	"networking.k8s.io/v1/Ingress": ingresses, "policy/v1/PodDisruptionBudget": pdbs,
	"serving.knative.dev/v1/Service": knativeServices, "example.com/v1/Widget": gizmos,
}

// asMetadata is u as a metadata client serves it.
func asMetadata(t *testing.T, u *unstructured.Unstructured) (schema.GroupVersionResource, *metav1.PartialObjectMetadata) {
	t.Helper()
	gvr, ok := fixtureResources[u.GetAPIVersion()+"/"+u.GetKind()]
	if !ok {
		t.Fatalf("no fixture resource for %s %s", u.GetAPIVersion(), u.GetKind())
	}
	m := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: u.GetAPIVersion(), Kind: u.GetKind()}}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object["metadata"].(map[string]any), &m.ObjectMeta); err != nil {
		t.Fatal(err)
	}
	return gvr, m
}

// create, update and remove change an object for both clients.
func (f *clusterFixture) create(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	gvr, m := asMetadata(t, u)
	if _, err := f.dyn.Resource(gvr).Namespace(u.GetNamespace()).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.meta.Tracker().Create(gvr, m, u.GetNamespace()); err != nil {
		t.Fatal(err)
	}
}

func (f *clusterFixture) update(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	gvr, m := asMetadata(t, u)
	if _, err := f.dyn.Resource(gvr).Namespace(u.GetNamespace()).Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.meta.Tracker().Update(gvr, m, u.GetNamespace()); err != nil {
		t.Fatal(err)
	}
}

func (f *clusterFixture) remove(t *testing.T, gvr schema.GroupVersionResource, ns, name string) {
	t.Helper()
	if err := f.dyn.Resource(gvr).Namespace(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.meta.Tracker().Delete(gvr, ns, name); err != nil {
		t.Fatal(err)
	}
}

func pvcReview(class string) map[string]any {
	return review("CREATE", map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
		"metadata": map[string]any{"name": "data", "namespace": "shop"}, "spec": map[string]any{"storageClassName": class}})
}

// eventuallyMsg polls cond for up to 20 s.
func eventuallyMsg(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened (last: %s)", what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func decidedAllowed(t *testing.T, h *Holder, input map[string]any) (bool, string) {
	t.Helper()
	d, err := h.Current().Decide(context.Background(), input)
	if err != nil {
		return false, "error: " + err.Error()
	}
	msgs := []string{}
	for _, f := range d.All() {
		msgs = append(msgs, f.Article+": "+f.Message)
	}
	return d.Allowed, strings.Join(msgs, "; ")
}

// TestClusterDataFollowsTheCluster: a bundle with cluster queries loads
// once its kinds synced, decides with the objects the informers hold (only
// the fields it reads), and follows them as they are created and deleted.
func TestClusterDataFollowsTheCluster(t *testing.T) {
	f := newClusterFixture(t, 100, storageClass("fast"), obj("v1", "Namespace", "", "shop", map[string]any{"metadata": map[string]any{"name": "shop", "labels": map[string]any{"team": "shop"}}}))
	h := NewHolder("../examples/charters/cluster-data.yaml", HolderOptions{Logger: quiet, Cluster: f.cd})
	if err := h.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	for kind, list := range h.Current().(*clusterDecider).view.stores {
		for _, s := range list {
			if why := s.unavailable(); why != "" {
				t.Fatalf("loaded before %s synced: %s", kind, why)
			}
		}
	}
	if p := f.inf.Pending(); len(p) != 0 {
		t.Fatalf("loaded, yet informers pending: %v", p)
	}
	if allowed, msg := decidedAllowed(t, h, pvcReview("fast")); !allowed {
		t.Fatalf("PVC of an existing StorageClass denied: %s", msg)
	}
	if allowed, msg := decidedAllowed(t, h, pvcReview("slow")); allowed || !strings.Contains(msg, "CD-003: PersistentVolumeClaim data: StorageClass slow does not exist") {
		t.Fatalf("PVC of a missing StorageClass: allowed %v, %s", allowed, msg)
	}
	// Only the fields the bundle reads are held: no provisioner, no managedFields.
	cv := h.Current().(*clusterDecider).view.ClusterValue()
	sc, err := ast.JSON(cv.(ast.Object).Get(ast.StringTerm("StorageClass")).Value)
	if err != nil {
		t.Fatal(err)
	}
	fast := sc.(map[string]any)[""].(map[string]any)["fast"].(map[string]any)
	if _, ok := fast["provisioner"]; ok {
		t.Errorf("the cache holds a field no query reads: %v", fast)
	}
	if _, ok := fast["metadata"].(map[string]any)["managedFields"]; ok {
		t.Errorf("the cache holds managedFields: %v", fast)
	}
	f.create(t, storageClass("slow"))
	eventuallyMsg(t, "PVC admitted once its StorageClass exists", func() (bool, string) { return decidedAllowed(t, h, pvcReview("slow")) })
	f.remove(t, storageClasses, "", "slow")
	eventuallyMsg(t, "PVC denied once its StorageClass is deleted", func() (bool, string) {
		allowed, msg := decidedAllowed(t, h, pvcReview("slow"))
		return !allowed && strings.Contains(msg, "does not exist"), msg
	})
	if got := f.cd.Objects(); got != 2 {
		t.Errorf("the cache counts %d objects, want 2 (fast and the Namespace)", got)
	}
}

// TestClusterDataBound: a kind that passes the bound is dropped; requests
// an article reading it matches fail closed, naming the bound, while the
// other articles still decide; a retry takes the kind back once it fits.
func TestClusterDataBound(t *testing.T) {
	f := newClusterFixture(t, 2, storageClass("a"), storageClass("b"), storageClass("c"))
	h := NewHolder("../examples/charters/cluster-data.yaml", HolderOptions{Logger: quiet, Cluster: f.cd})
	if err := h.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := h.Current()
	_, err := d.Decide(context.Background(), pvcReview("a"))
	if err == nil || !strings.Contains(err.Error(), "article CD-003 reads StorageClass objects, which the webhook cannot supply (the cluster data cache passed its bound of 2 objects") {
		// the retry may have run between the overflow and here: then it overflowed again, or is listing
		if err == nil || !strings.Contains(err.Error(), "article CD-003 reads StorageClass objects") {
			t.Fatalf("PVC with StorageClass over the bound: %v, want a fail-closed error naming the bound", err)
		}
	}
	svc := review("CREATE", map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "web", "namespace": "shop"}, "spec": map[string]any{"selector": map[string]any{"app": "web"}}})
	if allowed, msg := decidedAllowed(t, h, svc); !allowed {
		t.Fatalf("a Service (its article reads Services, within the bound) not admitted: %s", msg)
	}
	if got := f.cd.Objects(); got > 2 {
		t.Errorf("the cache holds %d objects, over its bound of 2", got)
	}
	f.remove(t, storageClasses, "", "c")
	eventuallyMsg(t, "the StorageClasses fit again after a retry", func() (bool, string) { return decidedAllowed(t, h, pvcReview("a")) })
}

// TestClusterDataReload: one reload path: a bundle that reads a new kind
// starts its informer and syncs it before it enforces; the kinds no bundle
// reads any more are stopped and released.
func TestClusterDataReload(t *testing.T) {
	f := newClusterFixture(t, 100, storageClass("fast"), obj("v1", "Namespace", "", "shop", nil))
	dir := t.TempDir()
	path := filepath.Join(dir, "charter.yaml")
	only := func(id string) []byte {
		b, err := os.ReadFile("../examples/charters/cluster-data.yaml")
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		start := strings.Index(text, "  - id: "+id)
		end := strings.Index(text[start+1:], "\n  - id: ")
		article := text[start:]
		if end >= 0 {
			article = text[start : start+1+end+1]
		}
		return []byte(text[:strings.Index(text, "  - id: ")] + article)
	}
	if err := os.WriteFile(path, only("CD-003"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := NewHolder(path, HolderOptions{Logger: quiet, Cluster: f.cd})
	if err := h.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := f.cd.Objects(); got != 1 {
		t.Fatalf("reading StorageClasses only, the cache holds %d objects, want 1", got)
	}
	if err := os.WriteFile(path, only("CD-005"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := h.Reload(context.Background())
	if err != nil || !changed {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
	if got := h.Current().(*clusterDecider).view.stores; len(got) != 1 || len(got["Namespace"]) != 1 {
		t.Fatalf("the new bundle reads %v, want Namespace only", got)
	}
	if got := f.cd.Objects(); got != 1 {
		t.Errorf("after the reload the cache holds %d objects, want 1 (the Namespace; StorageClasses released)", got)
	}
	pod := review("CREATE", map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "shop"}, "spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "c:1"}}}})
	if allowed, msg := decidedAllowed(t, h, pod); allowed || !strings.Contains(msg, "namespace shop has no team label") {
		t.Fatalf("a Pod in a namespace without a team label: allowed %v, %s", allowed, msg)
	}
	f.update(t, obj("v1", "Namespace", "", "shop", map[string]any{"metadata": map[string]any{"name": "shop", "labels": map[string]any{"team": "shop"}}}))
	eventuallyMsg(t, "the Pod admitted once its namespace is labelled", func() (bool, string) { return decidedAllowed(t, h, pod) })
}

// TestClusterDataResources: built-in kinds from the table and the scheme,
// declared custom kinds at their group and plural (a custom kind named like
// a built-in one besides it: review finding), others only when given.
func TestClusterDataResources(t *testing.T) {
	knative := compiler.CustomKind{Group: "serving.knative.dev", Version: "v1", Kind: "Service", Plural: "services", Namespaced: true}
	widget := compiler.CustomKind{Group: "example.com", Version: "v1", Kind: "Widget", Plural: "gizmos"}
	for _, tc := range []struct {
		kind   string
		custom []compiler.CustomKind
		given  map[string]string
		want   []schema.GroupResource
		err    string
	}{
		{"Namespace", nil, nil, []schema.GroupResource{{Resource: "namespaces"}}, ""},
		{"StorageClass", nil, nil, []schema.GroupResource{{Group: "storage.k8s.io", Resource: "storageclasses"}}, ""},
		{"PodDisruptionBudget", nil, nil, []schema.GroupResource{{Group: "policy", Resource: "poddisruptionbudgets"}}, ""},
		{"Endpoints", nil, nil, []schema.GroupResource{{Resource: "endpoints"}}, ""},
		{"Service", []compiler.CustomKind{knative, widget}, nil, []schema.GroupResource{{Resource: "services"}, {Group: "serving.knative.dev", Resource: "services"}}, ""},
		{"Widget", []compiler.CustomKind{knative, widget}, nil, []schema.GroupResource{{Group: "example.com", Resource: "gizmos"}}, ""},
		{"Widget", nil, map[string]string{"Widget": "example.com/widgets"}, []schema.GroupResource{{Group: "example.com", Resource: "widgets"}}, ""},
		{"Service", []compiler.CustomKind{knative}, map[string]string{"Service": "/services"}, []schema.GroupResource{{Resource: "services"}}, ""},
		{"Widget", nil, nil, nil, "kind Widget is neither a built-in Kubernetes kind nor declared in spec.customKinds: declare it there (or give its resource as Widget=GROUP/RESOURCE)"},
		{"Widget", nil, map[string]string{"Widget": "widgets"}, nil, `resource of kind Widget: "widgets" is not GROUP/RESOURCE (core group: /RESOURCE)`},
	} {
		got, err := ClusterDataResources(tc.kind, tc.custom, tc.given)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: error %v, want %q", tc.kind, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s %v %v: %v, %v; want %v", tc.kind, tc.custom, tc.given, got, err, tc.want)
		}
	}
}
