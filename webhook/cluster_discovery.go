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

// resources finds where the apiserver serves kind's objects: the group and
// resource of ClusterDataResources, each in its preferred version, listable
// and watchable (a declared custom kind the cluster does not serve is left
// out while another resource of the kind is served: it has no objects); a
// kind it cannot place (named only in podTemplates) is found by its kind
// name, the built-in group winning when several serve it.
func (cd *ClusterData) resources(kind string, custom []compiler.CustomKind) ([]schema.GroupVersionResource, error) {
	grs, err := ClusterDataResources(kind, custom, nil)
	if err != nil {
		gvr, err := cd.byKind(kind)
		if err != nil {
			return nil, err
		}
		return []schema.GroupVersionResource{gvr}, nil
	}
	var out []schema.GroupVersionResource
	var missing []string
	for _, gr := range grs {
		gvr, err := cd.served(gr)
		if err != nil {
			missing = append(missing, err.Error())
			continue
		}
		out = append(out, gvr)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("kind %s: %s", kind, strings.Join(missing, "; "))
	}
	if len(missing) > 0 {
		cd.log.Warn("cluster data: a resource of the kind is not served; its objects are not listed until a bundle activates again", "kind", kind, "why", strings.Join(missing, "; "))
	}
	return out, nil
}

// discover is the apiserver's preferred resources, listable and watchable
// (no subresources).
func (cd *ClusterData) discover(keep func(gv schema.GroupVersion, r metav1.APIResource) bool) ([]schema.GroupVersionResource, error) {
	lists, err := cd.o.Discovery.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var found []schema.GroupVersionResource
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") && slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "watch") && keep(gv, r) {
				found = append(found, gv.WithResource(r.Name))
			}
		}
	}
	return found, err
}

func (cd *ClusterData) cached(key string) (schema.GroupVersionResource, bool) {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	gvr, ok := cd.gvrs[key]
	return gvr, ok
}

func (cd *ClusterData) remember(key string, gvr schema.GroupVersionResource) {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	cd.gvrs[key] = gvr
}

// served is the preferred version of a group and resource.
func (cd *ClusterData) served(gr schema.GroupResource) (schema.GroupVersionResource, error) {
	if gvr, ok := cd.cached(gr.String()); ok {
		return gvr, nil
	}
	found, err := cd.discover(func(gv schema.GroupVersion, r metav1.APIResource) bool {
		return gv.Group == gr.Group && r.Name == gr.Resource
	})
	if len(found) == 0 {
		if err != nil {
			return schema.GroupVersionResource{}, fmt.Errorf("the cluster serves no listable %s (%v)", gr, err)
		}
		return schema.GroupVersionResource{}, fmt.Errorf("the cluster serves no listable %s", gr)
	}
	cd.remember(gr.String(), found[0])
	return found[0], nil
}

// byKind finds where the apiserver serves kind by its name alone; a kind
// served by several groups is the built-in one, else ambiguous.
func (cd *ClusterData) byKind(kind string) (schema.GroupVersionResource, error) {
	if gvr, ok := cd.cached(kind); ok {
		return gvr, nil
	}
	found, err := cd.discover(func(_ schema.GroupVersion, r metav1.APIResource) bool { return r.Kind == kind })
	if len(found) > 1 {
		if pref, ok := kinds.Preferred(kind); ok {
			group := schema.FromAPIVersionAndKind(pref, kind).Group
			found = slices.DeleteFunc(found, func(g schema.GroupVersionResource) bool { return g.Group != group })
		}
	}
	switch len(found) {
	case 0:
		if err != nil {
			return schema.GroupVersionResource{}, fmt.Errorf("the cluster serves no listable kind %s (%v)", kind, err)
		}
		return schema.GroupVersionResource{}, fmt.Errorf("the cluster serves no listable kind %s", kind)
	case 1:
		cd.remember(kind, found[0])
		return found[0], nil
	}
	return schema.GroupVersionResource{}, fmt.Errorf("kind %s is served by several groups (%v): cluster queries cannot tell which; declare it in spec.customKinds", kind, found)
}
