package engine

import (
	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
)

// nCluster is a program cluster query with its where leaves converted.
type nCluster struct {
	*programv1.ClusterQuery
	where []*nCond
}

func convertCluster(q *programv1.ClusterQuery) (*nCluster, error) {
	out := &nCluster{ClusterQuery: q}
	for _, l := range q.Where {
		c, err := convertCondition(&programv1.Condition{Leaf: l})
		if err != nil {
			return nil, err
		}
		out.where = append(out.where, c)
	}
	return out, nil
}

// candidate is one entry of lib.cluster_candidates(kind).
type candidate struct {
	namespace, name, value ast.Value
}

// candidates lists data.charter.cluster[kind] as lib.cluster_candidates does.
func candidates(cluster ast.Value, kind string) []candidate {
	var out []candidate
	each(get(cluster, kind), func(ns, objs ast.Value) bool {
		each(objs, func(name, o ast.Value) bool {
			out = append(out, candidate{namespace: ns, name: name, value: o})
			return true
		})
		return true
	})
	return out
}

// holds is cN of a cluster query: whether some candidate qualifies (exists)
// or none does (absent).
func (q *nCluster) holds(s scope) bool {
	found := false
	var names, labels ast.Set
	if q.Name != nil {
		names = s.valueSet(q.Name)
	}
	if q.Selects != nil {
		labels = s.valueSet(q.Selects)
	}
	selfName := getPath(s.e.resource, "metadata", "name")
	if selfName == nil {
		selfName = ast.Null{}
	}
	for _, c := range candidates(s.e.cluster, q.Kind) {
		if s.e.kind == q.Kind && ast.Compare(c.namespace, s.e.namespace) == 0 && ast.Compare(c.name, selfName) == 0 {
			continue // lib.is_self
		}
		if q.SameNamespace && ast.Compare(c.namespace, s.e.namespace) != 0 {
			continue
		}
		if names != nil && !holds(builtin.member, ast.NewTerm(c.name), ast.NewTerm(names)) {
			continue
		}
		in := s
		in.other = c.value
		ok := true
		for _, w := range q.where {
			if !w.holds(in) {
				ok = false
				break
			}
		}
		if ok && labels != nil {
			ok = false
			labels.Until(func(t *ast.Term) bool {
				ok = selectorSelects(c.value, t.Value)
				return ok
			})
		}
		if ok {
			found = true
			break
		}
	}
	if q.Op == programv1.OpAbsent {
		return !found
	}
	return found
}

// selectorSelects is lib.selector_selects: the candidate's
// spec.selector.matchLabels (without matchExpressions) all hold in labels.
func selectorSelects(cand, labels ast.Value) bool {
	if _, ok := labels.(ast.Object); !ok {
		return false
	}
	sel, ok := getPath(cand, "spec", "selector").(ast.Object)
	if !ok {
		return false
	}
	var match ast.Value = ast.NewObject()
	if m := get(sel, "matchLabels"); m != nil {
		match = m
	}
	mo, ok := match.(ast.Object)
	if !ok {
		return false
	}
	if exprs := get(sel, "matchExpressions"); exprs != nil {
		n, ok := count(exprs)
		if !ok || n != 0 {
			return false
		}
	}
	all := true
	mo.Until(func(k, v *ast.Term) bool {
		var l ast.Value = ast.Null{}
		if lo, ok := labels.(ast.Object); ok {
			if x := lo.Get(k); x != nil { // the object's own key term: label keys stay out of keyTerms
				l = x.Value
			}
		}
		all = ast.Compare(l, v.Value) == 0
		return !all
	})
	return all
}

// count is Rego's count: of a collection or a string; undefined otherwise.
func count(v ast.Value) (int, bool) {
	switch x := v.(type) {
	case *ast.Array:
		return x.Len(), true
	case ast.Object:
		return x.Len(), true
	case ast.Set:
		return x.Len(), true
	case ast.String:
		return len([]rune(string(x))), true
	}
	return 0, false
}

// clusterWitness is wN of a cluster query: the name path, constant.
func (q *nCluster) witness() witness {
	path := q.Static
	if q.Name != nil && (q.Name.Root == programv1.RootRequest || q.Name.Root == programv1.RootOldObject) {
		path = string(q.Name.Root)
		if q.Static != "" {
			path = join(path, q.Static)
		}
	}
	return witness{{path: path, value: ast.Null{}}}
}
