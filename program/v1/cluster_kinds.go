package v1

import "sort"

// ClusterKinds lists, sorted and once each, the kinds the program's cluster
// queries read from data.charter.cluster: what an enforcement point must
// supply for those articles to be decided as written.
func (p *Program) ClusterKinds() []string {
	seen := map[string]bool{}
	var walk func(c *Condition)
	walk = func(c *Condition) {
		if c == nil {
			return
		}
		if c.Cluster != nil {
			seen[c.Cluster.Kind] = true
		}
		for _, s := range c.Any {
			walk(s)
		}
		for _, s := range c.All {
			walk(s)
		}
		walk(c.Not)
	}
	for i := range p.Articles {
		walk(p.Articles[i].Violation)
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
