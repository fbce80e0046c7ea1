package engine

import (
	"slices"

	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
)

// ClusterView supplies data.charter.cluster while the engine runs: a
// webhook's informer cache. It is read once per decision, so one decision
// sees one state of the cluster.
type ClusterView interface {
	ClusterValue() ast.Value
}

// WithClusterView makes the native evaluator read cluster data from v at
// every decision instead of a fixed document (WithClusterData). Articles
// only OPA decides (raw Rego) do not see it; cluster queries are always
// declarative, so they are decided natively.
func WithClusterView(v ClusterView) Option {
	return func(o *options) { o.view = v }
}

// clusterNow is the cluster data of one decision.
func (n *native) clusterNow() ast.Value {
	if n.view != nil {
		return n.view.ClusterValue()
	}
	return n.cluster
}

// ClusterArticle is an article whose violation queries cluster data: the
// kinds it matches and the kinds its cluster queries read.
type ClusterArticle struct {
	ID         string
	Kinds      []string // match kinds ("*": every kind)
	CoversPods bool     // Pod also covers every kind with a pod template
	Reads      []string // the kinds its cluster queries read, sorted
}

// ClusterArticles lists the articles that query cluster data: an
// enforcement point that cannot supply a kind fails closed for them.
func (e *Engine) ClusterArticles() []ClusterArticle { return e.clusterArticles }

// ClusterFields says, per kind, which paths of an object (from RootOther,
// the candidate) the cluster queries read: an enforcement point needs to
// keep only those (see Project).
func (e *Engine) ClusterFields() map[string][]programv1.Path { return e.clusterFields }

func clusterInfo(p *programv1.Program) ([]ClusterArticle, map[string][]programv1.Path) {
	var arts []ClusterArticle
	fields := map[string][]programv1.Path{}
	selector := programv1.Path{Root: programv1.RootOther, Steps: []programv1.Step{{Kind: programv1.StepField, Name: "spec"}, {Kind: programv1.StepField, Name: "selector"}}}
	for _, a := range p.Articles {
		var reads []string
		var walk func(c *programv1.Condition)
		walk = func(c *programv1.Condition) {
			if c == nil {
				return
			}
			if q := c.Cluster; q != nil {
				if !slices.Contains(reads, q.Kind) {
					reads = append(reads, q.Kind)
				}
				if _, ok := fields[q.Kind]; !ok {
					fields[q.Kind] = nil
				}
				for _, l := range q.Where {
					fields[q.Kind] = append(fields[q.Kind], l.Path)
					if l.ValuesFrom != nil && l.ValuesFrom.Root == programv1.RootOther {
						fields[q.Kind] = append(fields[q.Kind], *l.ValuesFrom)
					}
				}
				if q.Selects != nil {
					fields[q.Kind] = append(fields[q.Kind], selector)
				}
			}
			for _, s := range c.Any {
				walk(s)
			}
			for _, s := range c.All {
				walk(s)
			}
			walk(c.Not)
		}
		walk(a.Violation)
		if len(reads) > 0 {
			slices.Sort(reads)
			arts = append(arts, ClusterArticle{ID: a.ID, Kinds: a.Kinds, CoversPods: a.CoversPods, Reads: reads})
		}
	}
	return arts, fields
}
