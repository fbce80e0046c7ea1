package charter

import (
	"fmt"
	"strings"

	"github.com/charter-dev/charter/kinds"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Kinds is the declaration in the kinds package's terms.
func (k CustomKind) Kinds() kinds.Custom {
	return kinds.Custom{Group: k.Group, Version: k.Version, Kind: k.Kind, Namespaced: k.Namespaced}
}

// customKinds decodes spec.customKinds: [{group, version, kind, plural, namespaced}].
func (d *decoder) customKinds(n *yaml.Node) []CustomKind {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "spec.customKinds must be a list of {group, version, kind, plural, namespaced}, not %s", kindName(n))
		return nil
	}
	var out []CustomKind
	seen := map[string]Pos{}
	for _, e := range n.Content {
		k := CustomKind{Pos: d.pos(e), Namespaced: true}
		before := len(d.errs)
		d.fields(e, "spec.customKinds entry", map[string]func(*yaml.Node){
			"group": func(v *yaml.Node) {
				k.Group = d.str(v, "customKinds.group")
				switch {
				case k.Group == "":
				case !strings.Contains(k.Group, "."):
					d.errorf(v, "customKinds.group %q: a custom resource's group has a dot (e.g. argoproj.io); built-in kinds need no declaration", k.Group)
				default:
					d.dnsCheck(v, "customKinds.group", k.Group, validation.IsDNS1123Subdomain)
				}
			},
			"version": func(v *yaml.Node) {
				k.Version = d.str(v, "customKinds.version")
				if k.Version != "" {
					d.dnsCheck(v, "customKinds.version", k.Version, validation.IsDNS1035Label)
				}
			},
			"kind": func(v *yaml.Node) {
				k.Kind = d.str(v, "customKinds.kind")
				if k.Kind != "" {
					// As the apiserver checks a CRD's names.kind.
					d.dnsCheck(v, "customKinds.kind", strings.ToLower(k.Kind), validation.IsDNS1035Label)
				}
			},
			"plural": func(v *yaml.Node) {
				k.Plural = d.str(v, "customKinds.plural")
				if k.Plural != "" {
					d.dnsCheck(v, "customKinds.plural", k.Plural, validation.IsDNS1035Label)
				}
			},
			"namespaced": func(v *yaml.Node) { k.Namespaced = d.boolean(v, "customKinds.namespaced") },
		})
		required(d, e, "spec.customKinds entry", present(e), "group", "version", "kind")
		if len(d.errs) > before || k.Group == "" || k.Version == "" || k.Kind == "" {
			continue
		}
		if k.Plural == "" {
			plural, _ := meta.UnsafeGuessKindToResource(schema.GroupVersionKind{Kind: k.Kind})
			k.Plural = plural.Resource
		}
		if kinds.BuiltinIn(k.Group, k.Kind) {
			d.errorf(e, "%s is a built-in kind of %s; spec.customKinds declares custom resources only", k.Kind, k.Group)
			continue
		}
		key := k.Group + "/" + k.Kind
		if first, dup := seen[key]; dup {
			d.errorf(e, "custom kind %s is declared twice (first at %s)", key, first)
			continue
		}
		seen[key] = k.Pos
		out = append(out, k)
	}
	return out
}

// dnsCheck reports a name the apiserver would refuse in a CRD.
func (d *decoder) dnsCheck(n *yaml.Node, what, value string, check func(string) []string) {
	if len(check(value)) == 0 {
		return
	}
	shape := "lower-case letters, digits and '-', starting with a letter (at most 63)"
	if what == "customKinds.group" {
		shape = "a DNS name: lower-case letters, digits, '-' and '.' (at most 253)"
	}
	d.errorf(n, "%s %q must be %s", what, value, shape)
}

// mergeCustomKinds adds b's custom kinds to a's: the same declaration twice
// counts once, two different declarations of one group and kind are an error.
func mergeCustomKinds(a, b []CustomKind) ([]CustomKind, error) {
	out := append([]CustomKind(nil), a...)
next:
	for _, k := range b {
		for _, u := range out {
			if u.Group == k.Group && u.Kind == k.Kind {
				if u.Version != k.Version || u.Plural != k.Plural || u.Namespaced != k.Namespaced {
					return out, fmt.Errorf("custom kind %s/%s is declared as %s here and as %s at %s", k.Group, k.Kind, u.describe(), k.describe(), k.Pos)
				}
				continue next
			}
		}
		out = append(out, k)
	}
	return out, nil
}

func (k CustomKind) describe() string {
	return fmt.Sprintf("{version: %s, plural: %s, namespaced: %t}", k.Version, k.Plural, k.Namespaced)
}

// knownKinds are the kinds a charter may name besides the built-in ones: its
// custom kinds, and the kinds its pod templates declare (workloads, so
// namespaced).
func knownKinds(s *Spec) []kinds.Custom {
	out := make([]kinds.Custom, 0, len(s.CustomKinds)+len(s.PodTemplates))
	for _, k := range s.CustomKinds {
		out = append(out, k.Kinds())
	}
	for _, t := range s.PodTemplates {
		out = append(out, kinds.Custom{Group: t.APIGroup, Kind: t.Kind, Namespaced: true})
	}
	return out
}

// checkKinds reports every kind the articles name (match.kinds and cluster
// queries) that no object can have: not a built-in kind, not declared in
// the charter, or spelt another way than Kubernetes spells it.
func checkKinds(s *Spec, articles []*Article, errs *ErrorList) {
	known := knownKinds(s)
	for _, a := range articles {
		for i, k := range a.Match.Kinds {
			if msg := kinds.Check(k, known); msg != "" {
				pos := a.Pos
				if i < len(a.Match.KindPos) {
					pos = a.Match.KindPos[i]
				}
				errs.Add(pos, "article %s: match.kinds: %s", a.ID, msg)
			}
		}
		walkClusterQueries(a.Violation, func(q *ClusterQuery) {
			switch {
			case q.Kind == "":
			case q.Kind == "*":
				errs.Add(q.KindPos, "article %s: cluster.kind names one kind, not \"*\"", a.ID)
			default:
				if msg := kinds.Check(q.Kind, known); msg != "" {
					errs.Add(q.KindPos, "article %s: cluster.kind: %s", a.ID, msg)
				}
			}
		})
	}
}

func walkClusterQueries(c *Condition, visit func(*ClusterQuery)) {
	if c == nil {
		return
	}
	if c.Cluster != nil {
		visit(c.Cluster)
	}
	for _, s := range c.Any {
		walkClusterQueries(s, visit)
	}
	for _, s := range c.All {
		walkClusterQueries(s, visit)
	}
	walkClusterQueries(c.Not, visit)
}
