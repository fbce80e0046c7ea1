package webhook

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/kinds"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// RBACOptions name the ClusterRole of the cluster data cache and whom it is
// bound to.
type RBACOptions struct {
	Name           string // ClusterRole and ClusterRoleBinding name
	Namespace      string // the webhook's namespace
	ServiceAccount string // the webhook's ServiceAccount
	// CustomKinds are the bundle's declared custom kinds
	// (data.charter.info.customKinds): their group and plural are listed.
	CustomKinds []compiler.CustomKind
	// Resources give the group and resource of a kind by hand, replacing
	// what it is derived from: kind -> "group/resource" (for a kind a
	// charter names only in podTemplates, or a bundle built before
	// customKinds).
	Resources map[string]string
}

// ClusterDataResources are where the objects of a kind that cluster queries
// read are listed and watched. Cluster queries, like match.kinds, name a
// kind alone, so they read every object of that kind name the webhook can
// know of: the built-in kind's resource (the rules table, else the group it
// is served at by preference with the resource the apiserver derives from
// the kind) and the group and plural of each custom kind of that name the
// charter declares (a Knative Service as well as core Services), built-in
// first. given (kind -> "group/resource") replaces them for its kinds.
func ClusterDataResources(kind string, custom []compiler.CustomKind, given map[string]string) ([]schema.GroupResource, error) {
	if gr, ok := given[kind]; ok {
		group, resource, ok := strings.Cut(gr, "/")
		if !ok || resource == "" || strings.Contains(resource, "/") {
			return nil, fmt.Errorf("resource of kind %s: %q is not GROUP/RESOURCE (core group: /RESOURCE)", kind, gr)
		}
		return []schema.GroupResource{{Group: group, Resource: resource}}, nil
	}
	var out []schema.GroupResource
	if r, ok := builtinResources[kind]; ok {
		out = append(out, schema.GroupResource{Group: r.group, Resource: r.resource})
	} else if gv, ok := kinds.Preferred(kind); ok {
		plural, _ := meta.UnsafeGuessKindToResource(schema.FromAPIVersionAndKind(gv, kind))
		out = append(out, plural.GroupResource())
	}
	for _, c := range custom {
		if c.Kind == kind {
			out = append(out, schema.GroupResource{Group: c.Group, Resource: c.Plural})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("kind %s is neither a built-in Kubernetes kind nor declared in spec.customKinds: declare it there (or give its resource as %s=GROUP/RESOURCE)", kind, kind)
	}
	return out, nil
}

// ClusterDataRBAC is the ClusterRole (get, list and watch on exactly the
// kinds' resources, nothing else) and its ClusterRoleBinding that the
// webhook's cluster data cache needs for kinds.
func ClusterDataRBAC(kindList []string, o RBACOptions) (*rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding, error) {
	byGroup := map[string][]string{}
	for _, k := range kindList {
		grs, err := ClusterDataResources(k, o.CustomKinds, o.Resources)
		if err != nil {
			return nil, nil, err
		}
		for _, gr := range grs {
			if !slices.Contains(byGroup[gr.Group], gr.Resource) {
				byGroup[gr.Group] = append(byGroup[gr.Group], gr.Resource)
			}
		}
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	labels := map[string]string{"app.kubernetes.io/name": "charter-webhook"}
	role := &rbacv1.ClusterRole{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: labels}}
	for _, g := range groups {
		rs := byGroup[g]
		sort.Strings(rs)
		role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: rs, Verbs: []string{"get", "list", "watch"}})
	}
	binding := &rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Labels: labels},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: o.Name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: o.ServiceAccount, Namespace: o.Namespace}}}
	return role, binding, nil
}

// ClusterDataRBACYAML is ClusterDataRBAC as two YAML documents.
func ClusterDataRBACYAML(kindList []string, o RBACOptions) ([]byte, error) {
	role, binding, err := ClusterDataRBAC(kindList, o)
	if err != nil {
		return nil, err
	}
	r, err := yaml.Marshal(role)
	if err != nil {
		return nil, err
	}
	b, err := yaml.Marshal(binding)
	if err != nil {
		return nil, err
	}
	clean := func(y []byte) string { return strings.ReplaceAll(string(y), "  creationTimestamp: null\n", "") }
	return []byte(clean(r) + "---\n" + clean(b)), nil
}
