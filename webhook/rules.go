package webhook

import (
	"slices"
	"sort"
	"strings"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/kinds"
	"github.com/charter-dev/charter/podtemplate"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// resourceRef is where requests about a kind arrive: an API group and a
// resource, with its subresource after a slash ("pods/exec").
type resourceRef struct{ group, resource string }

// builtinResources are the resources of the built-in kinds a charter names
// most. Any other kind is sent from every group, under the resource name the
// apiserver derives from it (meta.UnsafeGuessKindToResource), so custom
// resources are covered too.
var builtinResources = map[string]resourceRef{
	"Pod": {"", "pods"}, "PodTemplate": {"", "podtemplates"}, "ReplicationController": {"", "replicationcontrollers"},
	"Service": {"", "services"}, "ConfigMap": {"", "configmaps"}, "Secret": {"", "secrets"},
	"Namespace": {"", "namespaces"}, "ServiceAccount": {"", "serviceaccounts"},
	"PersistentVolumeClaim": {"", "persistentvolumeclaims"}, "PersistentVolume": {"", "persistentvolumes"},
	"Node": {"", "nodes"}, "Endpoints": {"", "endpoints"},
	"Deployment": {"apps", "deployments"}, "ReplicaSet": {"apps", "replicasets"},
	"StatefulSet": {"apps", "statefulsets"}, "DaemonSet": {"apps", "daemonsets"},
	"Job": {"batch", "jobs"}, "CronJob": {"batch", "cronjobs"},
	"Ingress": {"networking.k8s.io", "ingresses"}, "NetworkPolicy": {"networking.k8s.io", "networkpolicies"},
	"Role": {"rbac.authorization.k8s.io", "roles"}, "RoleBinding": {"rbac.authorization.k8s.io", "rolebindings"},
	"ClusterRole":        {"rbac.authorization.k8s.io", "clusterroles"},
	"ClusterRoleBinding": {"rbac.authorization.k8s.io", "clusterrolebindings"},
}

// subresourceKinds are the kinds a subresource request carries as its
// object: an article names the subresource by naming its kind (an article
// on PodExecOptions with operations [CONNECT] decides `kubectl exec`).
var subresourceKinds = map[string][]resourceRef{
	"PodExecOptions":        {{"", "pods/exec"}},
	"PodAttachOptions":      {{"", "pods/attach"}},
	"PodPortForwardOptions": {{"", "pods/portforward"}},
	"PodProxyOptions":       {{"", "pods/proxy"}},
	"ServiceProxyOptions":   {{"", "services/proxy"}},
	"NodeProxyOptions":      {{"", "nodes/proxy"}},
	"Binding":               {{"", "pods/binding"}, {"", "bindings"}},
	"Eviction":              {{"", "pods/eviction"}},
	"Scale":                 {{"*", "*/scale"}},
	"TokenRequest":          {{"", "serviceaccounts/token"}},
}

// podSubresources carry the whole pod and change its spec: an UPDATE through
// them is decided like an UPDATE of the pod (as Pod Security Admission does
// for ephemeralcontainers), so `kubectl debug` cannot add a privileged
// container and a resize cannot drop a required limit.
var podSubresources = []string{"pods/ephemeralcontainers", "pods/resize"}

// Rules are the webhook's rules derived from a bundle's catalogue.
type Rules struct {
	// Main are the requests the webhook decides in full: every kind and
	// operation an article names, pod subresources that change the spec.
	Main []admissionregistrationv1.RuleWithOperations
	// Status are the status subresources of the kinds decided on UPDATE.
	// A status update can change labels and annotations, so it is sent when
	// it does (MetadataChanged), and decided on that change.
	Status []admissionregistrationv1.RuleWithOperations
}

// MetadataChanged is the matchCondition of the status webhook: the apiserver
// sends a status update only when it changes metadata an article may read,
// so the kubelet's pod status updates never wait for the webhook.
const MetadataChanged = `object.metadata.?labels.orValue({}) != oldObject.metadata.?labels.orValue({}) || ` +
	`object.metadata.?annotations.orValue({}) != oldObject.metadata.?annotations.orValue({}) || ` +
	`object.metadata.?finalizers.orValue([]) != oldObject.metadata.?finalizers.orValue([]) || ` +
	`object.metadata.?ownerReferences.orValue([]) != oldObject.metadata.?ownerReferences.orValue([])`

// RulesFor derives the webhook's rules from the catalogue of a bundle
// (data.charter.info): each article's kinds, for the operations the handler
// decides for it (decidedOperations: "*" is CREATE and UPDATE, so no rule
// sends a DELETE or CONNECT that no article decides). Articles written
// for Pod also cover every kind with a pod template, as they do in the
// engine.
func RulesFor(info compiler.Info) Rules {
	main := map[resourceRef]map[string]bool{}
	add := func(to map[resourceRef]map[string]bool, r resourceRef, ops []string) {
		if to[r] == nil {
			to[r] = map[string]bool{}
		}
		for _, op := range ops {
			to[r][op] = true
		}
	}
	for _, a := range info.Articles {
		ops := decidedOperations(a.Operations) // what the handler decides for it
		if len(ops) == 0 {
			continue // runtime-only articles
		}
		for _, kind := range articleKinds(a.Kinds, info.PodTemplates) {
			switch refs, sub := subresourceKinds[kind]; {
			case kind == "*":
				add(main, resourceRef{"*", "*"}, ops)
				if slices.Contains(ops, "CONNECT") {
					add(main, resourceRef{"*", "*/*"}, []string{"CONNECT"})
				}
			case sub:
				for _, r := range refs {
					add(main, r, ops)
				}
			default:
				for _, r := range resourcesOf(kind, info.PodTemplates, info.CustomKinds) {
					add(main, r, ops)
				}
			}
		}
	}
	status := map[resourceRef]map[string]bool{}
	for r, ops := range main {
		if strings.Contains(r.resource, "/") || !ops["UPDATE"] {
			continue
		}
		add(status, resourceRef{r.group, r.resource + "/status"}, []string{"UPDATE"})
		if r.resource == "pods" || r.resource == "*" {
			for _, s := range podSubresources {
				add(main, resourceRef{r.group, s}, []string{"UPDATE"})
			}
		}
	}
	return Rules{Main: toRules(main), Status: toRules(status)}
}

// articleKinds expands Pod to every kind that embeds a pod: the bundle's
// pod templates (built-in kinds and the charter's spec.podTemplates).
func articleKinds(kinds []string, templates []podtemplate.Template) []string {
	var out []string
	for _, k := range kinds {
		out = append(out, k)
		if k == "Pod" {
			for _, t := range templates {
				out = append(out, t.Kind)
			}
		}
	}
	return out
}

// resourcesOf is where requests about kind arrive: every resource an
// object of that kind name can come from, since articles match objects by
// kind name alone (engine, compiled Rego: `kinds: [Service]` also matches a
// Knative Service). So a built-in kind is routed from its built-in resource
// (the table, else the derived plural in every group) AND from the group and
// plural of each custom kind of that name the charter declares
// (spec.customKinds), and from the group of each pod template of that kind;
// a kind that is none of these is routed under the derived plural from
// every group.
func resourcesOf(kind string, templates []podtemplate.Template, custom []compiler.CustomKind) []resourceRef {
	plural, _ := meta.UnsafeGuessKindToResource(schema.GroupVersionKind{Kind: kind})
	var out []resourceRef
	if r, ok := builtinResources[kind]; ok {
		out = append(out, r)
	} else if kinds.Builtin(kind) {
		out = append(out, resourceRef{"*", plural.Resource})
	}
	for _, c := range custom {
		if c.Kind == kind {
			out = append(out, resourceRef{c.Group, c.Plural})
		}
	}
	for _, t := range templates {
		if t.Kind != kind || kinds.BuiltinIn(t.APIGroup, kind) ||
			slices.ContainsFunc(custom, func(c compiler.CustomKind) bool { return c.Kind == kind && c.Group == t.APIGroup }) {
			continue // routed above
		}
		out = append(out, resourceRef{t.APIGroup, plural.Resource})
	}
	if len(out) == 0 {
		out = []resourceRef{{"*", plural.Resource}}
	}
	return out
}

// toRules groups resources with the same group and operations into one rule,
// in a stable order.
func toRules(m map[resourceRef]map[string]bool) []admissionregistrationv1.RuleWithOperations {
	type key struct{ group, ops string }
	byKey := map[key][]string{}
	for r, ops := range m {
		list := make([]string, 0, len(ops))
		for op := range ops {
			list = append(list, op)
		}
		sort.Strings(list)
		k := key{r.group, strings.Join(list, ",")}
		byKey[k] = append(byKey[k], r.resource)
	}
	keys := make([]key, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].ops < keys[j].ops
	})
	scope := admissionregistrationv1.AllScopes
	out := make([]admissionregistrationv1.RuleWithOperations, 0, len(keys))
	for _, k := range keys {
		resources := byKey[k]
		sort.Strings(resources)
		var ops []admissionregistrationv1.OperationType
		for _, op := range strings.Split(k.ops, ",") {
			ops = append(ops, admissionregistrationv1.OperationType(op))
		}
		out = append(out, admissionregistrationv1.RuleWithOperations{
			Operations: ops,
			Rule: admissionregistrationv1.Rule{APIGroups: []string{k.group}, APIVersions: []string{"*"},
				Resources: resources, Scope: &scope},
		})
	}
	return out
}
