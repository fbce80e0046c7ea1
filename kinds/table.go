package kinds

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/agnivade/levenshtein"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// GroupVersion is where a kind is served, e.g. "v1" or "batch/v1".
type GroupVersion = string

// Subresource is how admission sees a subresource: by the kind of its body.
type Subresource struct {
	Kind       string
	Version    GroupVersion
	Operations string // the operations that reach the webhook for it
}

// subresources are spelt as Kubernetes spells them (RBAC, webhook rules);
// kinds_test checks every kind is a known one.
var subresources = map[string]Subresource{
	"pods/exec":                    {"PodExecOptions", "v1", "CONNECT"},
	"pods/attach":                  {"PodAttachOptions", "v1", "CONNECT"},
	"pods/portforward":             {"PodPortForwardOptions", "v1", "CONNECT"},
	"pods/proxy":                   {"PodProxyOptions", "v1", "CONNECT"},
	"nodes/proxy":                  {"NodeProxyOptions", "v1", "CONNECT"},
	"services/proxy":               {"ServiceProxyOptions", "v1", "CONNECT"},
	"pods/eviction":                {"Eviction", "policy/v1", "CREATE"},
	"pods/binding":                 {"Binding", "v1", "CREATE"},
	"pods/ephemeralcontainers":     {"Pod", "v1", "UPDATE"},
	"pods/resize":                  {"Pod", "v1", "UPDATE"},
	"pods/status":                  {"Pod", "v1", "UPDATE"},
	"serviceaccounts/token":        {"TokenRequest", "authentication.k8s.io/v1", "CREATE"},
	"deployments/scale":            {"Scale", "autoscaling/v1", "UPDATE"},
	"replicasets/scale":            {"Scale", "autoscaling/v1", "UPDATE"},
	"statefulsets/scale":           {"Scale", "autoscaling/v1", "UPDATE"},
	"replicationcontrollers/scale": {"Scale", "autoscaling/v1", "UPDATE"},
}

// metaKinds are registered in every group version but are request options
// and wire envelopes, never admitted objects.
var metaKinds = map[string]bool{
	"WatchEvent": true, "ListOptions": true, "GetOptions": true, "DeleteOptions": true,
	"CreateOptions": true, "UpdateOptions": true, "PatchOptions": true, "Status": true,
	"APIVersions": true, "APIGroupList": true, "APIGroup": true, "APIResourceList": true,
	"ExportOptions": true, "TableOptions": true, "Table": true, "PartialObjectMetadata": true, "PartialObjectMetadataList": true,
}

// servedOutsideScheme are kinds every apiserver serves whose types live
// outside k8s.io/api (apiextensions-apiserver, kube-aggregator), so
// client-go's scheme does not list them; policies guarding them are common.
var servedOutsideScheme = map[string][]GroupVersion{
	"CustomResourceDefinition": {"apiextensions.k8s.io/v1"},
	"APIService":               {"apiregistration.k8s.io/v1"},
}

var (
	builtinOnce sync.Once
	builtin     map[string][]GroupVersion // kind -> where it is served, preferred (stable) first
)

// builtinKinds is derived once from client-go's scheme (k8s.io/api).
func builtinKinds() map[string][]GroupVersion {
	builtinOnce.Do(func() {
		builtin = map[string][]GroupVersion{}
		for gvk := range scheme.Scheme.AllKnownTypes() {
			if gvk.Version == "__internal" || metaKinds[gvk.Kind] || strings.HasSuffix(gvk.Kind, "List") {
				continue
			}
			builtin[gvk.Kind] = append(builtin[gvk.Kind], gvk.GroupVersion().String())
		}
		for k, gvs := range servedOutsideScheme {
			builtin[k] = append(builtin[k], gvs...)
		}
		for k, gvs := range builtin {
			sort.Slice(gvs, func(i, j int) bool {
				return versionRank(gvs[i]) < versionRank(gvs[j]) || versionRank(gvs[i]) == versionRank(gvs[j]) && gvs[i] < gvs[j]
			})
			builtin[k] = gvs
		}
	})
	return builtin
}

// versionRank puts stable versions before beta before alpha.
func versionRank(gv string) int {
	v := schema.FromAPIVersionAndKind(gv, "").Version
	switch {
	case strings.Contains(v, "alpha"):
		return 2
	case strings.Contains(v, "beta"):
		return 1
	}
	return 0
}

// Builtin reports whether kind is a built-in Kubernetes kind.
func Builtin(kind string) bool {
	_, ok := builtinKinds()[kind]
	return ok
}

// BuiltinIn reports whether kind is a built-in kind of the API group
// ("" for the core group).
func BuiltinIn(group, kind string) bool {
	for _, gv := range builtinKinds()[kind] {
		if schema.FromAPIVersionAndKind(gv, kind).Group == group {
			return true
		}
	}
	return false
}

// Custom is a custom resource kind a charter declares (spec.customKinds).
type Custom struct {
	Group      string
	Version    string
	Kind       string
	Namespaced bool
}

// Describe names a kind with where it is served: "CronJob (batch/v1)".
func Describe(kind string) string {
	return describe(kind, nil)
}

func describe(kind string, custom []Custom) string {
	if gvs := builtinKinds()[kind]; len(gvs) > 0 {
		return fmt.Sprintf("%s (%s)", kind, gvs[0])
	}
	for _, c := range custom {
		if c.Kind == kind {
			return fmt.Sprintf("%s (%s/%s, declared in spec.customKinds)", kind, c.Group, c.Version)
		}
	}
	return kind
}

// Check explains why kind, as a charter's match.kinds names it, is not a
// kind objects have, with the spelling it most likely meant; "" when it is
// a built-in kind, "*", or one of custom (declared custom resource kinds).
func Check(kind string, custom []Custom) string {
	if kind == "*" || Builtin(kind) || isCustom(custom, kind) {
		return ""
	}
	if strings.Contains(kind, "/") {
		return checkSlashed(kind, custom)
	}
	msg := fmt.Sprintf("unknown kind %q", kind)
	if s := suggest(kind, custom); s != "" {
		return msg + "; did you mean " + s + "?"
	}
	return msg + " (not a built-in Kubernetes kind; declare a custom resource's kind in spec.customKinds)"
}

// checkSlashed explains a kind written as a subresource (pods/exec, Pod/exec)
// or with its group and version (batch/v1/CronJob, apps/*/Deployment).
func checkSlashed(kind string, custom []Custom) string {
	parts := strings.Split(kind, "/")
	if len(parts) == 2 {
		res := strings.ToLower(parts[0])
		if s, ok := lookupSubresource(res, strings.ToLower(parts[1])); ok {
			return fmt.Sprintf("%q is not a kind: admission sees the %s subresource as kind %s (%s) with operations [%s]; write kinds: [%s], operations: [%s]",
				kind, s.name, s.Kind, s.Version, s.Operations, s.Kind, s.Operations)
		}
	}
	last := parts[len(parts)-1]
	if Builtin(last) || isCustom(custom, last) {
		return fmt.Sprintf("%q: a kind is named alone, without group or version; did you mean %s?", kind, describe(last, custom))
	}
	if s := suggest(last, custom); s != "" {
		return fmt.Sprintf("unknown kind %q; did you mean %s?", kind, s)
	}
	return fmt.Sprintf("unknown kind %q (a kind is named alone, e.g. CronJob, and a custom resource's kind is declared in spec.customKinds; a subresource such as pods/exec is matched by the kind admission sees)", kind)
}

type namedSubresource struct {
	Subresource
	name string
}

// lookupSubresource accepts the resource as Kubernetes spells it (pods) or
// as its kind (Pod, pod).
func lookupSubresource(res, sub string) (namedSubresource, bool) {
	for name, s := range subresources {
		r, sr, _ := strings.Cut(name, "/")
		if sr == sub && (r == res || r == res+"s" || r == res+"es") {
			return namedSubresource{s, name}, true
		}
	}
	return namedSubresource{}, false
}

// suggest is the known kind closest to a misspelt one: the same letters in
// another case, a plural, or a small typo.
func suggest(kind string, custom []Custom) string {
	lower := strings.ToLower(kind)
	candidates := map[string]bool{}
	for k := range builtinKinds() {
		candidates[k] = true
	}
	for _, c := range custom {
		candidates[c.Kind] = true
	}
	best, bestDist := "", 3
	for _, k := range sortedKeys(candidates) {
		kl := strings.ToLower(k)
		var d int
		switch lower {
		case kl, strings.ToLower(pluralOf(k)):
			d = 0
		default:
			d = levenshtein.ComputeDistance(lower, kl)
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return describe(best, custom)
}

// pluralOf is the resource name Kubernetes gives a kind, for the regular cases.
func pluralOf(kind string) string {
	switch {
	case strings.HasSuffix(kind, "s"), strings.HasSuffix(kind, "x"), strings.HasSuffix(kind, "ch"), strings.HasSuffix(kind, "sh"):
		return kind + "es"
	case len(kind) > 1 && strings.HasSuffix(kind, "y") && !strings.ContainsAny(kind[len(kind)-2:len(kind)-1], "aeiou"):
		return kind[:len(kind)-1] + "ies"
	}
	return kind + "s"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isCustom(custom []Custom, kind string) bool {
	for _, c := range custom {
		if c.Kind == kind {
			return true
		}
	}
	return false
}
