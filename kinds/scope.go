package kinds

import "k8s.io/apimachinery/pkg/runtime/schema"

// clusterScoped are the built-in kinds that have no namespace. The scheme
// does not record scope; kinds_test checks every entry is a known kind.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ComponentStatus": true,
	"ClusterRole": true, "ClusterRoleBinding": true,
	"StorageClass": true, "CSIDriver": true, "CSINode": true, "VolumeAttachment": true, "VolumeAttributesClass": true,
	"PriorityClass": true, "RuntimeClass": true, "IngressClass": true, "IPAddress": true, "ServiceCIDR": true,
	"CertificateSigningRequest": true, "ClusterTrustBundle": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
	"FlowSchema": true, "PriorityLevelConfiguration": true,
	"TokenReview": true, "SelfSubjectReview": true,
	"SubjectAccessReview": true, "SelfSubjectAccessReview": true, "SelfSubjectRulesReview": true,
	"CustomResourceDefinition": true, "APIService": true,
	"DeviceClass": true, "ResourceSlice": true, "StorageVersion": true, "StorageVersionMigration": true,
}

// Namespaced reports whether objects of a built-in kind live in a namespace.
// Kinds it does not know (custom resources) count as namespaced, as most are.
func Namespaced(kind string) bool { return !clusterScoped[kind] }

// namespacedIn is Namespaced for an object of apiVersion: a custom kind
// declared in that group says its own scope.
func namespacedIn(apiVersion, kind string, custom []Custom) bool {
	group := schema.FromAPIVersionAndKind(apiVersion, kind).Group
	for _, c := range custom {
		if c.Kind == kind && c.Group == group {
			return c.Namespaced
		}
	}
	return Namespaced(kind)
}

// DefaultNamespace returns obj with metadata.namespace set to ns when obj is
// a bare object of a namespaced kind without one, as kubectl apply would
// send it; anything else (a namespace given, a cluster-scoped kind, an
// AdmissionReview) is returned as is. custom are the custom kinds the
// charter declares, with their scope. obj itself is never modified.
func DefaultNamespace(obj map[string]any, ns string, custom ...Custom) map[string]any {
	kind, _ := obj["kind"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	if ns == "" || kind == "" || kind == "AdmissionReview" || !namespacedIn(apiVersion, kind, custom) {
		return obj
	}
	meta, ok := obj["metadata"].(map[string]any)
	if !ok && obj["metadata"] != nil {
		return obj // a malformed object is decided as written
	}
	if s, _ := meta["namespace"].(string); s != "" {
		return obj
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	m := make(map[string]any, len(meta)+1)
	for k, v := range meta {
		m[k] = v
	}
	m["namespace"] = ns
	out["metadata"] = m
	return out
}
