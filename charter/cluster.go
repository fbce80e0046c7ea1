package charter

import (
	"gopkg.in/yaml.v3"
)

// ClusterQuery asks about other objects of the cluster, which reach the
// decision as a data document (data.charter.cluster[kind][namespace][name]):
// whether some object of Kind, other than the object under review, relates
// to it. Candidates are narrowed by namespace, by name (the values of a
// path of the object), by leaves over the candidate (root `other`) and by
// the candidate's spec.selector selecting labels of the object.
type ClusterQuery struct {
	Pos           Pos
	Kind          string
	KindPos       Pos
	SameNamespace bool
	Name          *Path   // candidates named by one of the values this path reaches
	Where         []*Leaf // over the candidate (root other) and the article's roots; all hold
	Selects       *Path   // the candidate's spec.selector.matchLabels all hold in the labels at this path
	Op            string  // exists: some candidate qualifies; absent: none does
}

// clusterOther is the root of a where leaf's path that reads the candidate.
const clusterOther = "other"

func (d *decoder) clusterCondition(n *yaml.Node, c *Condition) {
	q := &ClusterQuery{Pos: d.pos(n)}
	path := func(v *yaml.Node, what string) *Path {
		p, err := ParsePath(d.str(v, what))
		if err != nil {
			d.fail(v, err)
			return nil
		}
		p.Pos = d.pos(v)
		return p
	}
	d.fields(n, "condition", map[string]func(*yaml.Node){
		"cluster": func(v *yaml.Node) {
			d.fields(v, "cluster", map[string]func(*yaml.Node){
				"kind": func(x *yaml.Node) {
					q.Kind, q.KindPos = d.str(x, "cluster.kind"), d.pos(x)
				},
				"sameNamespace": func(x *yaml.Node) { q.SameNamespace = d.boolean(x, "cluster.sameNamespace") },
				"name":          func(x *yaml.Node) { q.Name = path(x, "cluster.name") },
				"selects":       func(x *yaml.Node) { q.Selects = path(x, "cluster.selects") },
				"where": func(x *yaml.Node) {
					if x.Kind != yaml.SequenceNode || len(x.Content) == 0 {
						d.errorf(x, "cluster.where must be a non-empty list of leaves (path, op, value) over other, the candidate object")
						return
					}
					for _, e := range x.Content {
						sub := d.condition(e)
						if sub == nil {
							continue
						}
						if sub.Leaf == nil {
							d.errorf(e, "cluster.where entries are leaves (path, op, value), not any, all or not")
							continue
						}
						if sub.Leaf.Param != "" || updateOperators[sub.Leaf.Op] || sub.Leaf.Op == "absent" {
							d.errorf(e, "cluster.where leaves take a value or valuesFrom and no operator absent, changed, removed or added (for \"no candidate has X\", write op: absent on the query and exists here)")
							continue
						}
						q.Where = append(q.Where, sub.Leaf)
					}
				},
			})
			required(d, v, "cluster", present(v), "kind")
		},
		"op": func(v *yaml.Node) { q.Op = d.oneOf(v, "cluster operator", d.str(v, "op"), "exists", "absent") },
	})
	if !present(n)["op"] {
		d.errorf(n, "cluster condition is missing required field \"op\" (exists or absent)")
	}
	c.Cluster = q
}
