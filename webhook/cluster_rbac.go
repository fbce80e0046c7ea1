package webhook

import (
	"fmt"
	"sort"
	"strings"

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
	// Resources give the group and resource of kinds that are not built in
	// (custom resources): kind -> "group/resource".
	Resources map[string]string
}

// ClusterDataResource is where a kind's objects are listed and watched:
// the built-in table, the group a built-in kind is served at with the
// resource the apiserver derives from the kind, or o.Resources.
func ClusterDataResource(kind string, custom map[string]string) (schema.GroupResource, error) {
	if gr, ok := custom[kind]; ok {
		group, resource, ok := strings.Cut(gr, "/")
		if !ok || resource == "" || strings.Contains(resource, "/") {
			return schema.GroupResource{}, fmt.Errorf("resource of kind %s: %q is not GROUP/RESOURCE (core group: /RESOURCE)", kind, gr)
		}
		return schema.GroupResource{Group: group, Resource: resource}, nil
	}
	if r, ok := builtinResources[kind]; ok {
		return schema.GroupResource{Group: r.group, Resource: r.resource}, nil
	}
	gv, ok := kinds.Preferred(kind)
	if !ok {
		return schema.GroupResource{}, fmt.Errorf("kind %s is not a built-in Kubernetes kind: give its resource as %s=GROUP/RESOURCE", kind, kind)
	}
	gvk := schema.FromAPIVersionAndKind(gv, kind)
	plural, _ := meta.UnsafeGuessKindToResource(gvk)
	return plural.GroupResource(), nil
}

// ClusterDataRBAC is the ClusterRole (get, list and watch on exactly the
// kinds' resources, nothing else) and its ClusterRoleBinding that the
// webhook's cluster data cache needs for kinds.
func ClusterDataRBAC(kindList []string, o RBACOptions) (*rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding, error) {
	byGroup := map[string][]string{}
	for _, k := range kindList {
		gr, err := ClusterDataResource(k, o.Resources)
		if err != nil {
			return nil, nil, err
		}
		byGroup[gr.Group] = append(byGroup[gr.Group], gr.Resource)
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
