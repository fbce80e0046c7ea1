package charter

import (
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/selection"
)

func (d *decoder) article(n *yaml.Node) *Article {
	a := &Article{Pos: d.pos(n), Origin: d.file}
	before := len(d.errs)
	defer func() { a.Invalid = len(d.errs) > before }()
	ok := d.fields(n, "article", map[string]func(*yaml.Node){
		"id": func(v *yaml.Node) {
			a.ID = d.str(v, "id")
			if a.ID != "" && !idPattern.MatchString(a.ID) {
				d.errorf(v, "article id %q must be letters, digits, '.', '_' or '-', starting with a letter (at most 63)", a.ID)
			}
		},
		"title":       func(v *yaml.Node) { a.Title = d.str(v, "title") },
		"description": func(v *yaml.Node) { a.Description = d.str(v, "description") },
		"severity":    func(v *yaml.Node) { a.Severity = d.oneOf(v, "severity", d.str(v, "severity"), severities...) },
		"action":      func(v *yaml.Node) { a.Action = d.oneOf(v, "action", d.str(v, "action"), actions...) },
		"match":       func(v *yaml.Node) { d.match(v, &a.Match) },
		"foreach":     func(v *yaml.Node) { a.Foreach = d.foreach(v) },
		"violation":   func(v *yaml.Node) { a.Violation = d.condition(v) },
		"rego": func(v *yaml.Node) {
			a.Rego = d.str(v, "rego")
			a.RegoPos = d.blockStart(v)
		},
		"message": func(v *yaml.Node) {
			t, err := ParseTemplate(d.str(v, "message"))
			if err != nil {
				d.fail(v, err)
				return
			}
			t.Pos = d.pos(v)
			a.Message = t
		},
		"tests": func(v *yaml.Node) { a.Tests = d.tests(v) },
		"overrides": func(v *yaml.Node) {
			a.Overrides = d.strList(v, "overrides")
			for i, id := range a.Overrides {
				if !idPattern.MatchString(id) {
					d.errorf(v.Content[i], "overrides: %q is not an article id", id)
				}
			}
		},
		"runtime": func(v *yaml.Node) { a.Runtime = d.runtime(v) },
	})
	if !ok {
		return nil
	}
	has := present(n)
	required(d, n, "article", has, "id", "title")
	switch {
	case has["violation"] && has["rego"]:
		d.errorf(n, "article %s: violation and rego are exclusive; use one", a.ID)
	case !has["violation"] && !has["rego"] && !has["runtime"]:
		d.errorf(n, "article %s needs a violation, a rego body or a runtime rule", a.ID)
	}
	if (has["violation"] || has["rego"]) && !has["message"] {
		d.errorf(n, "article %s is missing required field \"message\"", a.ID)
	}
	if (has["violation"] || has["rego"]) && !has["match"] {
		d.errorf(n, "article %s is missing required field \"match\"", a.ID)
	}
	d.checkRoots(a)
	return a
}

func (d *decoder) match(n *yaml.Node, m *Match) {
	if n.Kind == yaml.MappingNode && !present(n)["kinds"] {
		d.errorf(n, "match is missing required field \"kinds\" (\"*\" for every kind)")
	}
	d.fields(n, "match", map[string]func(*yaml.Node){
		"kinds": func(v *yaml.Node) {
			m.Kinds = d.strList(v, "match.kinds")
			if v.Kind == yaml.SequenceNode {
				for _, e := range v.Content {
					m.KindPos = append(m.KindPos, d.pos(e))
				}
			}
			if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
				d.errorf(v, "match.kinds must name at least one kind (\"*\" for every kind)")
			}
		},
		"operations": func(v *yaml.Node) {
			ops := d.strList(v, "match.operations")
			for i, op := range ops {
				m.Operations = append(m.Operations, d.oneOf(v.Content[i], "operation", op, operations...))
			}
		},
		"namespaces":        func(v *yaml.Node) { m.Namespaces = d.globList(v, "match.namespaces") },
		"excludeNamespaces": func(v *yaml.Node) { m.ExcludeNamespaces = d.globList(v, "match.excludeNamespaces") },
		"labelSelector":     func(v *yaml.Node) { m.LabelSelector = d.labelSelector(v) },
	})
}

// selectorOps maps matchExpressions operators to the selection package's.
var selectorOps = map[string]selection.Operator{
	"In": selection.In, "NotIn": selection.NotIn, "Exists": selection.Exists, "DoesNotExist": selection.DoesNotExist,
}

func (d *decoder) labelSelector(n *yaml.Node) *LabelSelector {
	s := &LabelSelector{}
	d.fields(n, "labelSelector", map[string]func(*yaml.Node){
		"matchLabels": func(v *yaml.Node) {
			if v.Kind != yaml.MappingNode {
				d.errorf(v, "matchLabels must be a mapping, not %s", kindName(v))
				return
			}
			s.MatchLabels = map[string]string{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				key, val := v.Content[i].Value, d.str(v.Content[i+1], "label value")
				s.MatchLabels[key] = val
				if err := checkRequirement(key, selection.Equals, []string{val}); err != nil {
					d.errorf(v.Content[i], "matchLabels: %v", err)
				}
			}
		},
		"matchExpressions": func(v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				d.errorf(v, "matchExpressions must be a list, not %s", kindName(v))
				return
			}
			for _, e := range v.Content {
				var r LabelRequirement
				d.fields(e, "matchExpressions entry", map[string]func(*yaml.Node){
					"key": func(x *yaml.Node) { r.Key = d.str(x, "key") },
					"operator": func(x *yaml.Node) {
						r.Operator = d.oneOf(x, "operator", d.str(x, "operator"), "In", "NotIn", "Exists", "DoesNotExist")
					},
					"values": func(x *yaml.Node) { r.Values = d.strList(x, "values") },
				})
				required(d, e, "matchExpressions entry", present(e), "key", "operator")
				switch {
				case (r.Operator == "In" || r.Operator == "NotIn") && len(r.Values) == 0:
					d.errorf(e, "operator %s needs values", r.Operator)
				case r.Key != "" && r.Operator != "":
					if err := checkRequirement(r.Key, selectorOps[r.Operator], r.Values); err != nil {
						d.errorf(e, "matchExpressions: %v", err)
					}
				}
				s.MatchExpressions = append(s.MatchExpressions, r)
			}
		},
	})
	return s
}

// foreach accepts "containers", "volumes", a list path, or {path, as}.
func (d *decoder) foreach(n *yaml.Node) *Foreach {
	f := &Foreach{Pos: d.pos(n)}
	var over string
	if n.Kind == yaml.MappingNode {
		d.fields(n, "foreach", map[string]func(*yaml.Node){
			"path": func(v *yaml.Node) { over = d.str(v, "foreach.path") },
			"as":   func(v *yaml.Node) { f.As = d.str(v, "foreach.as") },
		})
		required(d, n, "foreach", present(n), "path")
	} else {
		over = d.str(n, "foreach")
	}
	f.Over = over
	switch over {
	case "":
		return nil
	case "containers":
		f.As = or(f.As, "container")
	case "volumes":
		f.As = or(f.As, "volume")
	default:
		p, err := ParsePath(over)
		if err != nil {
			d.fail(n, err)
			return nil
		}
		p.Pos = d.pos(n)
		if n := len(p.Segs); n == 0 || p.Segs[n-1].Kind != SegAll {
			p.Segs = append(p.Segs, Seg{Kind: SegAll})
		}
		f.Path = p
		f.As = or(f.As, "item")
	}
	if !isIdent(f.As) || reservedRoots[f.As] {
		d.errorf(n, "foreach name %q must be an identifier other than %s", f.As, strings.Join(sortedKeys(reservedRoots), ", "))
	}
	return f
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (d *decoder) tests(n *yaml.Node) []*Test {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "tests must be a list, not %s", kindName(n))
		return nil
	}
	var out []*Test
	for _, e := range n.Content {
		t := &Test{Pos: d.pos(e)}
		d.fields(e, "test", map[string]func(*yaml.Node){
			"name": func(v *yaml.Node) { t.Name = d.str(v, "test name") },
			"file": func(v *yaml.Node) {
				t.File = d.str(v, "test file")
				t.FilePos = d.pos(v)
				if t.File != "" && !filepath.IsAbs(t.File) {
					t.File = filepath.Join(filepath.Dir(d.file), t.File)
				}
			},
			"object": func(v *yaml.Node) {
				val, err := KubernetesValue(v)
				if err != nil {
					d.errorf(v, "test object: %v", err)
					return
				}
				obj, ok := val.(map[string]any)
				if !ok {
					d.errorf(v, "test object must be a mapping (a Kubernetes object or AdmissionReview)")
				}
				t.Object = obj
			},
			"expect": func(v *yaml.Node) {
				if v.Kind != yaml.SequenceNode {
					t.Expect = d.oneOf(v, "expect", d.str(v, "expect"), expectation...)
					return
				}
				for i, x := range d.strList(v, "expect") {
					t.Expects = append(t.Expects, d.oneOf(v.Content[i], "expect", x, expectation...))
				}
				if len(t.Expects) == 0 {
					d.errorf(v, "expect list must give one expectation per document of the test file")
					return
				}
				t.Expect = t.Expects[0]
			},
			"cluster": func(v *yaml.Node) {
				if v.Kind != yaml.SequenceNode {
					d.errorf(v, "test cluster must be a list of Kubernetes objects, not %s", kindName(v))
					return
				}
				for _, e := range v.Content {
					val, err := KubernetesValue(e)
					obj, ok := val.(map[string]any)
					meta, _ := obj["metadata"].(map[string]any)
					if err != nil || !ok || obj["kind"] == nil || meta["name"] == nil {
						d.errorf(e, "test cluster entries are Kubernetes objects with a kind and a metadata.name")
						continue
					}
					t.Cluster = append(t.Cluster, obj)
				}
			},
		})
		has := present(e)
		required(d, e, "test", has, "name", "expect")
		if has["file"] == has["object"] {
			d.errorf(e, "test %q needs exactly one of file or object", t.Name)
		}
		if has["object"] && len(t.Expects) > 1 {
			d.errorf(e, "test %q has one object but %d expectations; a list is for the documents of a file", t.Name, len(t.Expects))
		}
		out = append(out, t)
	}
	return out
}
