package compiler

import (
	"fmt"

	"github.com/charter-dev/charter/charter"
)

// clusterPaths are the paths of a cluster query that read the article's
// roots (not the candidate's).
func clusterPaths(q *charter.ClusterQuery) []*charter.Path {
	var out []*charter.Path
	for _, p := range []*charter.Path{q.Name, q.Selects} {
		if p != nil {
			out = append(out, p)
		}
	}
	for _, l := range q.Where {
		if l.ValuesFrom != nil {
			out = append(out, l.ValuesFrom)
		}
	}
	return out
}

// clusterWitness is the path a cluster condition's finding names: the
// name path (up to a wildcard) when it has one.
func (r roots) clusterWitness(q *charter.ClusterQuery) string {
	if !constantRoot(q.Name) {
		return `""`
	}
	return r.staticPath(q.Name)
}

// constantRoot: a path whose root's field path is constant (not the pod's
// or an element's), so a witness naming it needs no argument.
func constantRoot(p *charter.Path) bool {
	return p != nil && (p.Root == "object" || p.Root == "request" || p.Root == "oldObject")
}

// cluster writes cN, qN (the qualifying candidates, as [namespace, name])
// and wN (a constant witness) for a cluster query.
func (g *articleGen) cluster(n int, q *charter.ClusterQuery, use args) {
	f := &g.funcs
	p := use.params()
	test := "count(q%d(%s)) > 0"
	if q.Op == "absent" {
		test = "count(q%d(%s)) == 0"
	}
	f.line(0, "c%d(%s) if %s", n, p, fmt.Sprintf(test, n, use.call(use)))
	f.blank()
	f.line(0, "q%d(%s) := {[c.namespace, c.name] |", n, p)
	f.line(1, "some c in lib.cluster_candidates(%s)", term(q.Kind))
	f.line(1, "not lib.is_self(%s, c)", term(q.Kind))
	if q.SameNamespace {
		f.line(1, "c.namespace == lib.namespace")
	}
	if q.Name != nil {
		f.line(1, "c.name in %s", g.r.valueSet(q.Name, fmt.Sprintf("q%dn", n)))
	}
	if len(q.Where) > 0 || q.Selects != nil {
		f.line(1, "cand := c.value")
	}
	inner := g.r
	inner.other = true
	for i, l := range q.Where {
		prefix := fmt.Sprintf("q%dw%d_", n, i)
		for _, line := range inner.body(inner.leafResolve(l, prefix, false), l, prefix) {
			f.line(1, "%s", line)
		}
	}
	if q.Selects != nil {
		f.line(1, "some labels in %s", g.r.valueSet(q.Selects, fmt.Sprintf("q%ds", n)))
		f.line(1, "lib.selector_selects(cand, labels)")
	}
	f.line(0, "}")
	f.blank()
	f.line(0, "w%d(%s) := {{\"path\": %s, \"value\": null}}", n, args{}.params(), g.r.clusterWitness(q))
	f.blank()
}
