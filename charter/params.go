package charter

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParamTypes are the types a parameter may declare.
var ParamTypes = []string{"string", "integer", "number", "boolean", "quantity", "list", "object"}

// Parameter is one typed parameter of a charter (a template, in
// Gatekeeper's terms): leaves take it with `param: NAME`, messages with
// {{params.NAME}}. An instance gives it a value; else its default applies.
type Parameter struct {
	Pos         Pos
	Name        string
	Type        string
	Description string
	Default     any
	HasDefault  bool
	DefaultPos  Pos
}

// Instance instantiates a parameterised charter: its articles again, with
// these values, this scope and action, under ids prefixed with Name.
type Instance struct {
	Pos               Pos
	Name              string
	Charter           string // as written, relative to the instantiating file
	Namespaces        []string
	ExcludeNamespaces []string
	Action            string
	Values            map[string]ParamValue
	Tests             []InstanceTest
}

// ParamValue is an instance's value for one parameter, where it is written.
type ParamValue struct {
	Pos   Pos
	Value any
}

// InstanceTest is an inline test of one instantiated article.
type InstanceTest struct {
	Article string // the article's id in the instantiated charter
	Pos     Pos
	Test    *Test
}

func (d *decoder) parameters(n *yaml.Node) []Parameter {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "spec.parameters must be a list of {name, type, default}, not %s", kindName(n))
		return nil
	}
	var out []Parameter
	seen := map[string]Pos{}
	for _, e := range n.Content {
		p := Parameter{Pos: d.pos(e)}
		var def *yaml.Node
		d.fields(e, "parameter", map[string]func(*yaml.Node){
			"name":        func(v *yaml.Node) { p.Name = d.str(v, "parameter name") },
			"type":        func(v *yaml.Node) { p.Type = d.oneOf(v, "parameter type", d.str(v, "parameter type"), ParamTypes...) },
			"description": func(v *yaml.Node) { p.Description = d.str(v, "parameter description") },
			"default":     func(v *yaml.Node) { def = v },
		})
		required(d, e, "parameter", present(e), "name", "type")
		if p.Name != "" && !isIdent(p.Name) {
			d.errorf(e, "parameter name %q must be an identifier (letters, digits, _)", p.Name)
		}
		if first, dup := seen[p.Name]; dup && p.Name != "" {
			d.errorf(e, "duplicate parameter %q (first declared at %s)", p.Name, first)
		}
		seen[p.Name] = p.Pos
		if def != nil {
			p.Default, p.HasDefault, p.DefaultPos = d.value(def), true, d.pos(def)
			if p.Type != "" {
				if err := checkParamType(p.Type, p.Default); err != nil {
					d.errorf(def, "parameter %s: default %v", p.Name, err)
				}
			}
		}
		out = append(out, p)
	}
	return out
}

func (d *decoder) instances(n *yaml.Node) []Instance {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "spec.instances must be a list, not %s", kindName(n))
		return nil
	}
	var out []Instance
	seen := map[string]Pos{}
	for _, e := range n.Content {
		in := Instance{Pos: d.pos(e), Values: map[string]ParamValue{}}
		d.fields(e, "instance", map[string]func(*yaml.Node){
			"name": func(v *yaml.Node) {
				in.Name = d.str(v, "instance name")
				if in.Name != "" && !idPattern.MatchString(in.Name) {
					d.errorf(v, "instance name %q must be letters, digits, '.', '_' or '-', starting with a letter", in.Name)
				}
			},
			"charter":           func(v *yaml.Node) { in.Charter = d.str(v, "instance charter") },
			"namespaces":        func(v *yaml.Node) { in.Namespaces = d.globList(v, "instance namespaces") },
			"excludeNamespaces": func(v *yaml.Node) { in.ExcludeNamespaces = d.globList(v, "instance excludeNamespaces") },
			"action":            func(v *yaml.Node) { in.Action = d.oneOf(v, "action", d.str(v, "action"), actions...) },
			"parameters": func(v *yaml.Node) {
				if v.Kind != yaml.MappingNode {
					d.errorf(v, "instance parameters must be a mapping of name: value, not %s", kindName(v))
					return
				}
				for i := 0; i+1 < len(v.Content); i += 2 {
					k, x := v.Content[i], v.Content[i+1]
					if _, dup := in.Values[k.Value]; dup {
						d.errorf(k, "duplicate parameter %q", k.Value)
						continue
					}
					in.Values[k.Value] = ParamValue{Pos: d.pos(x), Value: d.value(x)}
				}
			},
			"tests": func(v *yaml.Node) { in.Tests = d.instanceTests(v) },
		})
		required(d, e, "instance", present(e), "name", "charter")
		if first, dup := seen[in.Name]; dup && in.Name != "" {
			d.errorf(e, "duplicate instance %q (first at %s)", in.Name, first)
		}
		seen[in.Name] = in.Pos
		out = append(out, in)
	}
	return out
}

// instanceTests reads tests that name their article: {article, name, expect, object|file}.
func (d *decoder) instanceTests(n *yaml.Node) []InstanceTest {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "instance tests must be a list, not %s", kindName(n))
		return nil
	}
	var out []InstanceTest
	for _, e := range n.Content {
		if e.Kind != yaml.MappingNode {
			d.errorf(e, "test must be a mapping, not %s", kindName(e))
			continue
		}
		rest := *e
		rest.Content = nil
		it := InstanceTest{Pos: d.pos(e)}
		for i := 0; i+1 < len(e.Content); i += 2 {
			if e.Content[i].Value == "article" {
				it.Article = d.str(e.Content[i+1], "test article")
				continue
			}
			rest.Content = append(rest.Content, e.Content[i], e.Content[i+1])
		}
		if it.Article == "" {
			d.errorf(e, "an instance test names its article (article: ID, the id in the instantiated charter)")
		}
		seq := yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{&rest}}
		if ts := d.tests(&seq); len(ts) == 1 {
			it.Test = ts[0]
			out = append(out, it)
		}
	}
	return out
}

// checkParamType checks a value against a parameter type.
func checkParamType(typ string, v any) error {
	ok := false
	switch typ {
	case "string":
		_, ok = v.(string)
	case "integer":
		_, ok = v.(int64)
	case "number":
		switch v.(type) {
		case int64, float64:
			ok = true
		}
	case "boolean":
		_, ok = v.(bool)
	case "quantity":
		switch v.(type) {
		case int64, float64, string:
			_, err := OperandNanos(v)
			ok = err == nil
		}
	case "list":
		_, ok = v.([]any)
	case "object":
		_, ok = v.(map[string]any)
	default:
		return nil // an unknown type is reported where it is declared
	}
	if ok {
		return nil
	}
	article := "a"
	if strings.ContainsAny(typ[:1], "aeiou") {
		article = "an"
	}
	hint := ""
	if typ == "quantity" {
		hint = " (a number or a Kubernetes quantity like 500m or 1Gi)"
	}
	return fmt.Errorf("%s is not %s %s%s", showValue(v), article, typ, hint)
}

// showValue renders a parameter value as JSON, for messages and errors.
func showValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// checkParamRefs reports leaves and placeholders naming a parameter the
// charter does not declare.
func (d *decoder) checkParamRefs(c *Charter) {
	declared := map[string]bool{}
	for _, p := range c.Spec.Parameters {
		declared[p.Name] = true
	}
	names := sortedKeys(declared)
	check := func(pos Pos, name string) {
		if declared[name] {
			return
		}
		if len(names) == 0 {
			d.errs.Add(pos, "parameter %q is not declared: this charter has no spec.parameters", name)
			return
		}
		d.errs.Add(pos, "parameter %q is not declared (spec.parameters: %s)", name, strings.Join(names, ", "))
	}
	for _, a := range c.Spec.Articles {
		walkLeaves(a.Violation, func(l *Leaf) {
			if l.Param != "" {
				check(l.ValuePos, l.Param)
			}
		})
		if a.Message == nil {
			continue
		}
		for _, part := range a.Message.Parts {
			if part.Path == nil || part.Path.Root != "params" {
				continue
			}
			if len(part.Path.Segs) != 1 || part.Path.Segs[0].Kind != SegField {
				d.errs.Add(a.Message.Pos, "message: {{%s}}: a parameter placeholder is params.NAME", part.Path.Raw)
				continue
			}
			check(a.Message.Pos, part.Path.Segs[0].Name)
		}
	}
}

func walkLeaves(c *Condition, f func(*Leaf)) {
	if c == nil {
		return
	}
	if c.Leaf != nil {
		f(c.Leaf)
	}
	for _, s := range c.Any {
		walkLeaves(s, f)
	}
	for _, s := range c.All {
		walkLeaves(s, f)
	}
	walkLeaves(c.Not, f)
}

// binding is the value a parameter takes in one instantiation.
type binding struct {
	value any
	pos   Pos // where the value is written: the instance's value or the default
}

// bind resolves the parameters' values for an instance (nil for the
// charter used by itself, with its defaults). ok is false when some
// parameter has no value.
func bind(params []Parameter, in *Instance, errs *ErrorList) (map[string]binding, bool) {
	out := map[string]binding{}
	ok := true
	declared := map[string]Parameter{}
	for _, p := range params {
		declared[p.Name] = p
	}
	if in != nil {
		for _, name := range sortedKeys(in.Values) {
			v := in.Values[name]
			p, known := declared[name]
			if !known {
				names := make([]string, 0, len(params))
				for _, p := range params {
					names = append(names, p.Name)
				}
				errs.Add(v.Pos, "instance %s: unknown parameter %q (the charter declares: %s)", in.Name, name, strings.Join(names, ", "))
				ok = false
				continue
			}
			if err := checkParamType(p.Type, v.Value); err != nil {
				errs.Add(v.Pos, "instance %s: parameter %s: %v", in.Name, name, err)
				ok = false
				continue
			}
			out[name] = binding{value: v.Value, pos: v.Pos}
		}
	}
	for _, p := range params {
		if _, set := out[p.Name]; set {
			continue
		}
		if in != nil && in.Values[p.Name].Pos.Line != 0 {
			continue // set, but wrong: reported above
		}
		if !p.HasDefault {
			if in != nil {
				errs.Add(in.Pos, "instance %s: parameter %s has no default; set it in parameters", in.Name, p.Name)
			}
			ok = false
			continue
		}
		out[p.Name] = binding{value: p.Default, pos: p.DefaultPos}
	}
	return out, ok
}

// instantiate copies articles with the parameters bound: leaves get their
// values (checked against their operator, reported at the value), messages
// their text. prefix is prepended to ids ("" for the charter by itself).
func instantiate(articles []*Article, values map[string]binding, in *Instance, errs *ErrorList) []*Article {
	prefix := ""
	if in != nil {
		prefix = in.Name + "."
	}
	out := make([]*Article, 0, len(articles))
	for _, a := range articles {
		b := *a
		b.ID = prefix + a.ID
		if prefix != "" {
			b.Overrides = nil
			for _, id := range a.Overrides {
				b.Overrides = append(b.Overrides, prefix+id)
			}
			b.Tests = nil
			if !idPattern.MatchString(b.ID) {
				errs.Add(in.Pos, "instance %s: article id %q is not a valid id (letters, digits, '.', '_' or '-', at most 63)", in.Name, b.ID)
			}
		}
		b.Violation = bindCondition(a.Violation, values, a, errs)
		if a.Message != nil {
			m := *a.Message
			m.Parts = nil
			for _, part := range a.Message.Parts {
				if part.Path != nil && part.Path.Root == "params" && len(part.Path.Segs) == 1 {
					if v, ok := values[part.Path.Segs[0].Name]; ok {
						m.Parts = append(m.Parts, TemplatePart{Text: showValue(v.value)})
						continue
					}
				}
				m.Parts = append(m.Parts, part)
			}
			b.Message = &m
		}
		if in != nil {
			if err := scopeArticle(&b, in); err != nil {
				errs.Add(in.Pos, "instance %s: article %s: %v", in.Name, a.ID, err)
			}
		}
		out = append(out, &b)
	}
	return out
}

// scopeArticle narrows an instantiated article to the instance's scope and action.
func scopeArticle(a *Article, in *Instance) error {
	if in.Action != "" {
		a.Action = in.Action
	}
	a.Match.ExcludeNamespaces = union(a.Match.ExcludeNamespaces, in.ExcludeNamespaces)
	if len(in.Namespaces) > 0 {
		if len(a.Match.Namespaces) > 0 {
			return fmt.Errorf("the article limits match.namespaces already (%s); the instance may not set namespaces", strings.Join(a.Match.Namespaces, ", "))
		}
		a.Match.Namespaces = slices.Clone(in.Namespaces)
	}
	return nil
}

func bindCondition(c *Condition, values map[string]binding, a *Article, errs *ErrorList) *Condition {
	if c == nil {
		return nil
	}
	out := *c
	out.Any, out.All = nil, nil
	for _, s := range c.Any {
		out.Any = append(out.Any, bindCondition(s, values, a, errs))
	}
	for _, s := range c.All {
		out.All = append(out.All, bindCondition(s, values, a, errs))
	}
	out.Not = bindCondition(c.Not, values, a, errs)
	if c.Leaf != nil && c.Leaf.Param != "" {
		l := *c.Leaf
		v, ok := values[l.Param]
		if ok {
			l.Value, l.HasValue = v.value, true
			if l.Op != "" {
				if err := checkOperand(&l); err != nil {
					errs.Add(v.pos, "parameter %s = %s, used by article %s at %s: %v", l.Param, showValue(v.value), a.ID, l.ValuePos, err)
				}
			}
		}
		out.Leaf = &l
	}
	return &out
}
