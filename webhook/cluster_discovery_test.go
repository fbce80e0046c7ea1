package webhook

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/charter-dev/charter/compiler"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestServedClusterDataResources: where cluster data of a kind is read from,
// for the webhook's cache and a live scan alike: the built-in resource and
// the declared custom kinds of the name (built-in first), never a group
// serving the kind name that the charter does not declare.
func TestServedClusterDataResources(t *testing.T) {
	verbs := metav1.Verbs{"get", "list", "watch"}
	list := func(gv string, rs ...metav1.APIResource) *metav1.APIResourceList {
		return &metav1.APIResourceList{GroupVersion: gv, APIResources: rs}
	}
	res := func(name, kind string, verbs ...string) metav1.APIResource {
		return metav1.APIResource{Name: name, Kind: kind, Verbs: verbs}
	}
	lists := []*metav1.APIResourceList{
		list("v1", res("services", "Service", verbs...), res("services/status", "Service", verbs...)),
		list("apps/v1", res("deployments", "Deployment", verbs...)),
		list("serving.knative.dev/v1", res("services", "Service", verbs...)),
		list("example.com/v1", res("deployments", "Deployment", verbs...), res("gizmos", "Widget", verbs...), res("sprockets", "Sprocket", verbs...)),
		list("other.example/v1", res("deployments", "Deployment", verbs...), res("sprockets", "Sprocket", verbs...), res("cogs", "Cog", "get", "list")),
	}
	knative := compiler.CustomKind{Group: "serving.knative.dev", Version: "v1", Kind: "Service", Plural: "services", Namespaced: true}
	exampleDeployments := compiler.CustomKind{Group: "example.com", Version: "v1", Kind: "Deployment", Plural: "deployments", Namespaced: true}
	gone := compiler.CustomKind{Group: "gone.example", Version: "v1", Kind: "Deployment", Plural: "deployments", Namespaced: true}
	partial := errors.New("unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: 503")
	for _, tc := range []struct {
		name     string
		kind     string
		custom   []compiler.CustomKind
		lists    []*metav1.APIResourceList
		derr     error
		want     string // the resources, or the error
		unserved string
	}{
		{"a built-in kind: its resource only, not another group serving the kind name", "Deployment", nil, lists, nil, "[apps/v1, Resource=deployments]", ""},
		{"a built-in kind named like a declared custom kind: built-in first", "Service", []compiler.CustomKind{knative}, lists, nil,
			"[/v1, Resource=services serving.knative.dev/v1, Resource=services]", ""},
		{"an undeclared group serving a built-in kind name is not read", "Service", nil, lists, nil, "[/v1, Resource=services]", ""},
		{"a declared custom kind", "Deployment", []compiler.CustomKind{exampleDeployments}, lists, nil,
			"[apps/v1, Resource=deployments example.com/v1, Resource=deployments]", ""},
		{"a declared custom kind the cluster does not serve is left out, named", "Deployment", []compiler.CustomKind{gone}, lists, nil,
			"[apps/v1, Resource=deployments]", "the cluster serves no listable deployments.gone.example"},
		{"no resource of the kind served", "Deployment", nil, lists[:1], nil, "error: kind Deployment: the cluster serves no listable deployments.apps", ""},
		{"no resource served, discovery failed in part: says so", "Deployment", nil, lists[:1], partial,
			"error: kind Deployment: the cluster serves no listable deployments.apps (unable to retrieve the complete list", ""},
		{"discovery failed", "Deployment", nil, nil, partial, "error: kind Deployment: the cluster serves no listable deployments.apps (discovery: unable", ""},
		{"a kind neither built-in nor declared, served by one group: by its name", "Widget", nil, lists, nil, "[example.com/v1, Resource=gizmos]", ""},
		{"a kind neither built-in nor declared, served by several groups: ambiguous", "Sprocket", nil, lists, nil,
			"error: kind Sprocket is served by several groups ([example.com/v1, Resource=sprockets other.example/v1, Resource=sprockets]): cluster queries cannot tell which; declare it in spec.customKinds", ""},
		{"a resource that cannot be watched is not served", "Cog", nil, lists, nil, "error: the cluster serves no listable kind Cog", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gvrs, unserved, err := ServedClusterDataResources(tc.kind, tc.custom, tc.lists, tc.derr)
			got := fmt.Sprint(gvrs)
			if err != nil {
				got = "error: " + err.Error()
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
			if u := strings.Join(unserved, "; "); u != tc.unserved {
				t.Errorf("unserved %q, want %q", u, tc.unserved)
			}
		})
	}
}

// TestClusterDataResourcesCached: the webhook asks discovery once per kind
// and its resources while all are served, and again while one is not.
func TestClusterDataResourcesCached(t *testing.T) {
	d := &countingDiscovery{}
	f := newClusterFixtureWith(t, ClusterDataOptions{Discovery: d})
	knative := compiler.CustomKind{Group: "serving.knative.dev", Version: "v1", Kind: "Service", Plural: "services", Namespaced: true}
	gone := compiler.CustomKind{Group: "gone.example", Version: "v1", Kind: "Service", Plural: "services", Namespaced: true}
	for range 2 {
		gvrs, err := f.cd.resources("Service", []compiler.CustomKind{knative})
		if err != nil || len(gvrs) != 2 || gvrs[0] != services || gvrs[1] != knativeServices {
			t.Fatalf("Services with Knative's: %v, %v", gvrs, err)
		}
	}
	if d.calls != 1 {
		t.Errorf("discovery asked %d times for one kind, want once", d.calls)
	}
	for range 2 {
		if gvrs, err := f.cd.resources("Service", []compiler.CustomKind{gone}); err != nil || len(gvrs) != 1 || gvrs[0] != services {
			t.Fatalf("Services with an unserved custom kind: %v, %v", gvrs, err)
		}
	}
	if d.calls != 3 {
		t.Errorf("discovery asked %d times, want 3 (an unserved resource is asked for again)", d.calls)
	}
	if gvrs, err := f.cd.resources("Widget", nil); err != nil || len(gvrs) != 1 || gvrs[0] != (schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "gizmos"}) {
		t.Errorf("Widget by its name: %v, %v", gvrs, err)
	}
}

type countingDiscovery struct {
	fakeDiscovery
	calls int
}

func (d *countingDiscovery) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	d.calls++
	return d.fakeDiscovery.ServerPreferredResources()
}
