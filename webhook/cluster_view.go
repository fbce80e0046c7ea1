package webhook

import (
	"fmt"
	"strings"
	"sync"

	"github.com/charter-dev/charter/engine"
	"github.com/open-policy-agent/opa/v1/ast"
)

// clusterView is the cluster data one activated bundle reads.
type clusterView struct {
	cd        *ClusterData
	stores    map[string][]*kindStore // by kind: its resources, built-in first
	articles  []engine.ClusterArticle
	templates map[string]bool // kinds with a pod template
	once      sync.Once

	mu     sync.Mutex
	merged map[string]mergedKind // kinds of several resources, by kind
}

// mergedKind is a kind's merged objects and the store values merged: it
// is built again only when one of them changes.
type mergedKind struct {
	from []ast.Value
	val  ast.Value
}

// ClusterValue is data.charter.cluster now.
func (v *clusterView) ClusterValue() ast.Value {
	items := make([][2]*ast.Term, 0, len(v.stores))
	for kind, list := range v.stores {
		vals := make([]ast.Value, 0, len(list))
		for _, s := range list {
			vals = append(vals, s.value())
		}
		items = append(items, ast.Item(ast.StringTerm(kind), ast.NewTerm(v.merge(kind, vals))))
	}
	return ast.NewObject(items...)
}

// merge is mergeResources(vals), the one built last for kind while no
// store's value changed since: a store keeps its value until its objects
// change, so a merge over every object of the kind on each request would
// cost what the stores' cache saves (review finding).
func (v *clusterView) merge(kind string, vals []ast.Value) ast.Value {
	if len(vals) == 1 {
		return vals[0]
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if m, ok := v.merged[kind]; ok && sameValues(m.from, vals) {
		return m.val
	}
	val := mergeResources(vals)
	if v.merged == nil {
		v.merged = map[string]mergedKind{}
	}
	v.merged[kind] = mergedKind{from: vals, val: val}
	return val
}

// sameValues reports whether a and b are the same store values (the same
// objects, not equal ones: a store builds a new value when it changes).
func sameValues(a, b []ast.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, ok := a[i].(ast.Object)
		y, ok2 := b[i].(ast.Object)
		if !ok || !ok2 || x != y {
			return false
		}
	}
	return true
}

// mergeResources is one kind's objects from several resources (namespace ->
// name -> object); of two objects with one namespace and name, the first
// resource's (the built-in one) is kept.
func mergeResources(vals []ast.Value) ast.Value {
	if len(vals) == 1 {
		return vals[0]
	}
	byNS := map[string][][2]*ast.Term{}
	seen := map[[2]string]bool{}
	for _, v := range vals {
		nss, _ := v.(ast.Object)
		if nss == nil {
			continue
		}
		_ = nss.Iter(func(ns, names *ast.Term) error {
			o, _ := names.Value.(ast.Object)
			if o == nil {
				return nil
			}
			nsName := string(ns.Value.(ast.String))
			return o.Iter(func(name, obj *ast.Term) error {
				k := [2]string{nsName, string(name.Value.(ast.String))}
				if !seen[k] {
					seen[k] = true
					byNS[nsName] = append(byNS[nsName], ast.Item(name, obj))
				}
				return nil
			})
		})
	}
	items := make([][2]*ast.Term, 0, len(byNS))
	for ns, objs := range byNS {
		items = append(items, ast.Item(ast.StringTerm(ns), ast.NewTerm(ast.NewObject(objs...))))
	}
	return ast.NewObject(items...)
}

func (v *clusterView) release() { v.once.Do(func() { v.cd.releaseStores(v.stores) }) }

// failClosed names, for an input of kind, the articles that read a kind the
// cache cannot supply now, and why; "" when none.
func (v *clusterView) failClosed(kind string) string {
	var msgs []string
	for _, a := range v.articles {
		if !v.matches(a, kind) {
			continue
		}
		for _, k := range a.Reads {
			for _, s := range v.stores[k] {
				if why := s.unavailable(); why != "" {
					msgs = append(msgs, fmt.Sprintf("article %s reads %s objects, which the webhook cannot supply (%s)", a.ID, k, why))
				}
			}
		}
	}
	return strings.Join(msgs, "; ")
}

func (v *clusterView) matches(a engine.ClusterArticle, kind string) bool {
	for _, k := range a.Kinds {
		if k == "*" || k == kind || (k == "Pod" && a.CoversPods && v.templates[kind]) {
			return true
		}
	}
	return false
}
