package engine

import programv1 "github.com/charter-dev/charter/program/v1"

// Project keeps of a cluster object only what cluster queries can read:
// apiVersion, kind, metadata.name and metadata.namespace, and the values
// the paths (from RootOther, as ClusterFields gives them) reach, each
// whole. Lists along a path keep their length (elements keep only what the
// rest of the path reaches), so every path reaches in the projection
// exactly what it reaches in obj: a query decides the same on both.
// managedFields and a Secret's data are never kept unless a path names
// them (no declarative path can reach Secret data: Project is also where
// an enforcement point would refuse it, see ClusterDocument).
func Project(obj map[string]any, paths []programv1.Path) map[string]any {
	root := &pathNode{}
	for _, p := range paths {
		root.add(p.Steps)
	}
	kept, _ := root.project(obj)
	out, _ := kept.(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	for _, k := range []string{"apiVersion", "kind"} {
		if v, ok := obj[k]; ok {
			out[k] = v
		}
	}
	if meta, ok := obj["metadata"].(map[string]any); ok {
		m, _ := out["metadata"].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		for _, k := range []string{"name", "namespace"} {
			if v, ok := meta[k]; ok {
				m[k] = v
			}
		}
		out["metadata"] = m
	}
	if out["kind"] == "Secret" {
		delete(out, "data")
		delete(out, "stringData")
	}
	return out
}

// pathNode is a trie of path steps: whole keeps the value entirely, fields
// descend into a map key, each into every list element or map value.
type pathNode struct {
	whole  bool
	fields map[string]*pathNode
	each   *pathNode
}

func (n *pathNode) add(steps []programv1.Step) {
	if n.whole {
		return
	}
	if len(steps) == 0 {
		n.whole, n.fields, n.each = true, nil, nil
		return
	}
	s := steps[0]
	if s.Kind == programv1.StepField {
		if n.fields == nil {
			n.fields = map[string]*pathNode{}
		}
		c := n.fields[s.Name]
		if c == nil {
			c = &pathNode{}
			n.fields[s.Name] = c
		}
		c.add(steps[1:])
		return
	}
	// index, all and glob: every element (a superset, never less).
	if n.each == nil {
		n.each = &pathNode{}
	}
	n.each.add(steps[1:])
}

// project returns what of v the node keeps, and false when nothing.
func (n *pathNode) project(v any) (any, bool) {
	if n.whole {
		return v, true
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		if n.each != nil {
			for k, e := range x {
				if p, ok := n.each.project(e); ok {
					out[k] = p
				}
			}
		}
		for k, c := range n.fields {
			e, ok := x[k]
			if !ok {
				continue
			}
			if p, ok := c.project(e); ok {
				out[k] = merge(out[k], p)
			}
		}
		return out, true
	case []any:
		if n.each == nil {
			return nil, false
		}
		out := make([]any, len(x))
		for i, e := range x {
			p, ok := n.each.project(e)
			if !ok {
				// keep the position: a scalar where the path wants a map
				// reaches nothing in either
				p = nil
			}
			out[i] = p
		}
		return out, true
	}
	return nil, false
}

// merge unites two projections of the same value.
func merge(a, b any) any {
	if al, ok := a.([]any); ok {
		if bl, ok := b.([]any); ok && len(al) == len(bl) {
			for i := range al {
				al[i] = merge(al[i], bl[i])
			}
			return al
		}
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		if b == nil {
			return a
		}
		return b
	}
	for k, v := range bm {
		am[k] = merge(am[k], v)
	}
	return am
}
