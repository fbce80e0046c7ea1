package webhook

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clienttesting "k8s.io/client-go/testing"
)

func widgetReview(spec map[string]any) map[string]any {
	return review("CREATE", map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"}, "spec": spec})
}

func listed(actions []clienttesting.Action, gvr schema.GroupVersionResource) bool {
	for _, a := range actions {
		if a.GetVerb() == "list" && a.GetResource() == gvr {
			return true
		}
	}
	return false
}

// TestClusterDataSecretsAsMetadata: a kind whose cluster queries read only
// metadata (a Secret looked up by name) is listed and watched through the
// metadata client: the apiserver never sends a Secret's data, so it never
// enters the process (before, Secrets were listed whole and only projected
// afterwards; review finding). A kind whose queries read more (an
// Ingress's spec.rules) is still listed whole.
func TestClusterDataSecretsAsMetadata(t *testing.T) {
	secret := obj("v1", "Secret", "shop", "db", map[string]any{"data": map[string]any{"password": "aHVudGVyMg=="}, "type": "Opaque"})
	f := newClusterFixture(t, 100, secret)
	h := NewHolder("testdata/knative.yaml", HolderOptions{Logger: quiet, Cluster: f.cd})
	if err := h.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if listed(f.dyn.Actions(), secrets) {
		t.Error("Secrets were listed whole (the dynamic client): their data entered the process")
	}
	if !listed(f.meta.Actions(), secrets) {
		t.Errorf("Secrets were not listed as metadata: %v", f.meta.Actions())
	}
	cv, err := ast.JSON(h.Current().(*clusterDecider).view.ClusterValue())
	if err != nil {
		t.Fatal(err)
	}
	db := cv.(map[string]any)["Secret"].(map[string]any)["shop"].(map[string]any)["db"].(map[string]any)
	if _, ok := db["data"]; ok || len(db) != 3 {
		t.Errorf("the cache holds more of a Secret than its identity: %v", db)
	}
	if _, msg := decidedAllowed(t, h, widgetReview(map[string]any{"secretName": "db"})); strings.Contains(msg, "KN-002") {
		t.Errorf("a Widget naming an existing Secret: %s", msg)
	}
	if allowed, msg := decidedAllowed(t, h, widgetReview(map[string]any{"secretName": "gone"})); allowed || !strings.Contains(msg, "KN-002: Widget w: Secret gone does not exist") {
		t.Errorf("a Widget naming a missing Secret: allowed %v, %s", allowed, msg)
	}

	// The cluster-data example: metadata for kinds read by name or labels,
	// whole objects for kinds whose specs are read.
	g := newClusterFixture(t, 100)
	h = NewHolder("../examples/charters/cluster-data.yaml", HolderOptions{Logger: quiet, Cluster: g.cd})
	if err := h.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"StorageClass": true, "Namespace": true, "Ingress": false, "Service": false, "PodDisruptionBudget": false}
	for kind, list := range h.Current().(*clusterDecider).view.stores {
		if len(list) != 1 || list[0].metadata != want[kind] {
			t.Errorf("kind %s: %d stores, metadata only %v; want 1, %v", kind, len(list), len(list) > 0 && list[0].metadata, want[kind])
		}
	}
	if !listed(g.dyn.Actions(), ingresses) || listed(g.dyn.Actions(), storageClasses) || !listed(g.meta.Actions(), storageClasses) {
		t.Errorf("Ingresses must be listed whole, StorageClasses as metadata: dynamic %v, metadata %v", g.dyn.Actions(), g.meta.Actions())
	}
}

// TestClusterDataCustomKindNamedLikeBuiltin: a cluster query names a kind
// alone, as match.kinds does, so a declared Knative Service is read with
// the core Services (before, only core Services were listed; review
// finding); of two with one namespace and name, the core one counts.
func TestClusterDataCustomKindNamedLikeBuiltin(t *testing.T) {
	labelled := func(apiVersion, name, t string) *unstructured.Unstructured {
		o := obj(apiVersion, "Service", "shop", name, nil)
		o.SetLabels(map[string]string{"team": t})
		return o
	}
	f := newClusterFixture(t, 100,
		labelled("serving.knative.dev/v1", "api", "shop"),
		labelled("v1", "web", "other"), labelled("serving.knative.dev/v1", "web", "shop"))
	h := NewHolder("testdata/knative.yaml", HolderOptions{Logger: quiet, Cluster: f.cd})
	if err := h.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.Current().(*clusterDecider).view.stores["Service"]; len(got) != 2 || got[0].gvr != services || got[1].gvr != knativeServices {
		t.Fatalf("Services are read from %d resources, want core then Knative", len(got))
	}
	if allowed, msg := decidedAllowed(t, h, widgetReview(map[string]any{"service": "api"})); !allowed {
		t.Errorf("a Widget naming a Knative Service of team shop: denied: %s", msg)
	}
	if allowed, msg := decidedAllowed(t, h, widgetReview(map[string]any{"service": "web"})); allowed || !strings.Contains(msg, "KN-003") {
		t.Errorf("a Widget naming web (core Service of team other, Knative one of team shop): allowed %v, %s; want the core one to count", allowed, msg)
	}
	if got := f.cd.Objects(); got != 3 {
		t.Errorf("the cache counts %d objects, want 3", got)
	}
	// The merge of the two resources is built again only when one changes,
	// not on each request (review finding).
	view := h.Current().(*clusterDecider).view
	merged := func() ast.Value {
		view.mu.Lock()
		defer view.mu.Unlock()
		return view.merged["Service"].val
	}
	before := merged()
	if before == nil {
		t.Fatal("decisions reading two resources of Services kept no merge")
	}
	decidedAllowed(t, h, widgetReview(map[string]any{"service": "api"}))
	decidedAllowed(t, h, widgetReview(map[string]any{"service": "web"}))
	if after := merged(); after.(ast.Object) != before.(ast.Object) {
		t.Error("the Services were merged again though no Service changed")
	}
	f.create(t, labelled("serving.knative.dev/v1", "new", "shop"))
	eventuallyMsg(t, "a new Knative Service is seen", func() (bool, string) {
		return decidedAllowed(t, h, widgetReview(map[string]any{"service": "new"}))
	})
	if merged().(ast.Object) == before.(ast.Object) {
		t.Error("a new Knative Service was decided on the old merge")
	}
	if got := merged().(ast.Object).Get(ast.StringTerm("shop")).Value.(ast.Object).Get(ast.StringTerm("web")); got == nil || !strings.Contains(got.String(), `"team": "other"`) {
		t.Errorf("after the merge was built again, shop/web is %v, want the core Service (team other)", got)
	}
}

// TestClusterDataOverflowDuringFirstSync: a kind that passes the bound while
// a bundle waits for its first sync is reported at once as over the bound
// (the bundle activates; the articles that read the kind fail closed,
// naming the kind and the bound), not after the whole sync timeout as a
// missing RBAC permission (review finding).
func TestClusterDataOverflowDuringFirstSync(t *testing.T) {
	var objs []runtime.Object
	for i := range 2000 {
		objs = append(objs, storageClass(fmt.Sprintf("sc-%d", i)))
	}
	f := newClusterFixtureWith(t, ClusterDataOptions{MaxObjects: 2, SyncTimeout: time.Minute, Retry: time.Hour}, objs...)
	// The list arrives once the bundle waits for it, as a long list from an
	// apiserver does.
	slowList := func(clienttesting.Action) (bool, runtime.Object, error) {
		time.Sleep(200 * time.Millisecond)
		return false, nil, nil
	}
	f.meta.PrependReactor("list", "storageclasses", slowList)
	f.dyn.PrependReactor("list", "storageclasses", slowList)
	h := NewHolder("../examples/charters/cluster-data.yaml", HolderOptions{Logger: quiet, Cluster: f.cd})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Load(ctx); err != nil {
		t.Fatalf("a bundle whose kind overflowed the cache was refused: %v", err)
	}
	_, err := h.Current().Decide(context.Background(), pvcReview("a"))
	if err == nil || !strings.Contains(err.Error(), "article CD-003 reads StorageClass objects, which the webhook cannot supply (the cluster data cache passed its bound of 2 objects") ||
		strings.Contains(err.Error(), "ServiceAccount") {
		t.Fatalf("PVC whose StorageClasses are over the bound: %v; want it not decided, naming kind and bound", err)
	}
	if got := f.cd.Objects(); got > 2 {
		t.Errorf("the cache holds %d objects, over its bound of 2", got)
	}
}

// TestClusterDataRetryAfterRelease: a kind dropped over the bound whose
// retry fires while a bundle reload releases it must not start an informer
// no view will ever stop. The retry checked that the store was still read
// under the cache's lock and started the informer under the store's, so a
// release in between leaked a running informer (review finding). Run with
// -race too.
func TestClusterDataRetryAfterRelease(t *testing.T) {
	f := newClusterFixture(t, 100, storageClass("a"))
	running := func() int {
		f.inf.mu.Lock()
		defer f.inf.mu.Unlock()
		return len(f.inf.private)
	}
	for i := range 50 {
		s := &kindStore{cd: f.cd, kind: "StorageClass", key: "retry", gvr: storageClasses, refs: 1, over: "over the bound"}
		f.cd.mu.Lock()
		f.cd.stores[s.key] = s
		f.cd.mu.Unlock()
		s.mu.Lock()
		done := make(chan struct{})
		go func() { s.retryNow(); close(done) }()
		time.Sleep(time.Millisecond) // the retry is under way, waiting for the store
		s.mu.Unlock()
		f.cd.releaseStores(map[string][]*kindStore{"StorageClass": {s}})
		<-done
		if n := running(); n != 0 {
			t.Fatalf("iteration %d: %d informers run for a released store", i, n)
		}
	}
	if got := f.cd.Objects(); got != 0 {
		t.Errorf("released stores still count %d objects", got)
	}
}

// TestClusterDataStaleInformerEvent: after a kind dropped over the bound is
// listed again by a retry, a late event of the stopped informer must not
// change the store. put checked only that some informer ran, so a late add
// put an object the new informer's list never deletes (here: one deleted
// from the cluster meanwhile), which then decided cluster queries, and a
// late delete removed one the new informer holds (review finding).
func TestClusterDataStaleInformerEvent(t *testing.T) {
	f := newClusterFixtureWith(t, ClusterDataOptions{MaxObjects: 2, Retry: time.Hour}, storageClass("a"), storageClass("b"), storageClass("c"))
	s := &kindStore{cd: f.cd, kind: "StorageClass", key: "stale", gvr: storageClasses, refs: 1}
	f.cd.mu.Lock()
	f.cd.stores[s.key] = s
	f.cd.mu.Unlock()
	t.Cleanup(func() { f.cd.releaseStores(map[string][]*kindStore{"StorageClass": {s}}) })
	if err := s.ensure(); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	stale := s.events
	s.mu.Unlock()
	eventuallyMsg(t, "three StorageClasses pass the bound of two", func() (bool, string) {
		why := s.unavailable()
		return strings.Contains(why, "bound of 2"), why
	})

	f.remove(t, storageClasses, "", "c")
	s.retryNow() // the timer would, in an hour
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.waitFirstSync(ctx); err != nil {
		t.Fatal(err)
	}
	if why := s.unavailable(); why != "" {
		t.Fatalf("not held after the retry: %s", why)
	}

	late := func(u *unstructured.Unstructured) any {
		o, err := s.transform(u)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	stale.OnAdd(late(storageClass("c")), false)
	stale.OnUpdate(late(storageClass("c")), late(storageClass("c")))
	stale.OnDelete(late(storageClass("a")))

	names := map[string]bool{}
	if byNS, _ := s.value().(ast.Object); byNS != nil {
		if cluster := byNS.Get(ast.StringTerm("")); cluster != nil {
			for _, k := range cluster.Value.(ast.Object).Keys() {
				names[string(k.Value.(ast.String))] = true
			}
		}
	}
	if want := map[string]bool{"a": true, "b": true}; !maps.Equal(names, want) {
		t.Errorf("after late events of the stopped informer the store holds %v, want %v (the cluster's)", names, want)
	}
	if got := f.cd.Objects(); got != 2 {
		t.Errorf("the cache counts %d objects, want 2", got)
	}
}
