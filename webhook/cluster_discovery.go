package webhook

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/kinds"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// resources finds where the apiserver serves kind's objects
// (ServedClusterDataResources), asking discovery once per kind and
// remembering the answer while every resource of the kind is served.
func (cd *ClusterData) resources(kind string, custom []compiler.CustomKind) ([]schema.GroupVersionResource, error) {
	key := kind
	if grs, err := ClusterDataResources(kind, custom, nil); err == nil {
		key = fmt.Sprint(kind, grs)
	}
	if gvrs, ok := cd.cached(key); ok {
		return gvrs, nil
	}
	lists, derr := cd.o.Discovery.ServerPreferredResources()
	gvrs, unserved, err := ServedClusterDataResources(kind, custom, lists, derr)
	if err != nil {
		return nil, err
	}
	if len(unserved) > 0 {
		cd.log.Warn("cluster data: a resource of the kind is not served; its objects are not listed until a bundle activates again", "kind", kind, "why", strings.Join(unserved, "; "))
	} else {
		cd.remember(key, gvrs)
	}
	return gvrs, nil
}

// ServedClusterDataResources are the resources, each in its preferred
// version, that the objects of kind are read from for cluster queries: by
// the webhook's cache and by a live scan or diff (charter audit scan, charter
// diff --kubeconfig), so a query decides alike in both. lists and derr are
// the apiserver's preferred resources as discovery's ServerPreferredResources
// returns them (derr may name groups that failed while others answered).
//
// They are the group and resource of ClusterDataResources (the built-in
// kind's, then each declared custom kind's of that name: where several hold
// an object of one namespace and name, the first one's counts), listable and
// watchable; one the cluster does not serve is left out and named in
// unserved while another is served (it has no objects). A kind it cannot
// place (named only in podTemplates) is found by its kind name, the built-in
// group winning when several serve it, else an error (ambiguous).
func ServedClusterDataResources(kind string, custom []compiler.CustomKind, lists []*metav1.APIResourceList, derr error) (gvrs []schema.GroupVersionResource, unserved []string, err error) {
	if derr != nil && len(lists) == 0 {
		derr = fmt.Errorf("discovery: %w", derr)
	}
	served := listable(lists)
	grs, err := ClusterDataResources(kind, custom, nil)
	if err != nil {
		gvr, err := servedKind(served, kind, derr)
		if err != nil {
			return nil, nil, err
		}
		return []schema.GroupVersionResource{gvr}, nil, nil
	}
	for _, gr := range grs {
		i := slices.IndexFunc(served, func(s servedResource) bool { return s.gvr.GroupResource() == gr })
		if i < 0 {
			unserved = append(unserved, notServed(gr.String(), derr))
			continue
		}
		gvrs = append(gvrs, served[i].gvr)
	}
	if len(gvrs) == 0 {
		return nil, nil, fmt.Errorf("kind %s: %s", kind, strings.Join(unserved, "; "))
	}
	return gvrs, unserved, nil
}

// servedResource is a resource the apiserver serves, with its kind.
type servedResource struct {
	gvr  schema.GroupVersionResource
	kind string
}

// listable are the resources of lists that can be listed and watched (no
// subresources).
func listable(lists []*metav1.APIResourceList) []servedResource {
	var out []servedResource
	for _, l := range lists {
		if l == nil {
			continue
		}
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") && slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "watch") {
				out = append(out, servedResource{gvr: gv.WithResource(r.Name), kind: r.Kind})
			}
		}
	}
	return out
}

// notServed says that what is not among the listable resources, and why
// discovery may have missed it.
func notServed(what string, derr error) string {
	if derr != nil {
		return fmt.Sprintf("the cluster serves no listable %s (%v)", what, derr)
	}
	return "the cluster serves no listable " + what
}

// servedKind finds where the apiserver serves kind by its name alone; a kind
// served by several groups is the built-in one, else ambiguous.
func servedKind(served []servedResource, kind string, derr error) (schema.GroupVersionResource, error) {
	var found []schema.GroupVersionResource
	for _, s := range served {
		if s.kind == kind {
			found = append(found, s.gvr)
		}
	}
	if len(found) > 1 {
		if pref, ok := kinds.Preferred(kind); ok {
			group := schema.FromAPIVersionAndKind(pref, kind).Group
			found = slices.DeleteFunc(found, func(g schema.GroupVersionResource) bool { return g.Group != group })
		}
	}
	switch len(found) {
	case 0:
		return schema.GroupVersionResource{}, fmt.Errorf("%s", notServed("kind "+kind, derr))
	case 1:
		return found[0], nil
	}
	return schema.GroupVersionResource{}, fmt.Errorf("kind %s is served by several groups (%v): cluster queries cannot tell which; declare it in spec.customKinds", kind, found)
}

func (cd *ClusterData) cached(key string) ([]schema.GroupVersionResource, bool) {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	gvrs, ok := cd.gvrs[key]
	return gvrs, ok
}

func (cd *ClusterData) remember(key string, gvrs []schema.GroupVersionResource) {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	cd.gvrs[key] = gvrs
}
