package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/podtemplate"
	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// native evaluates a bundle's declarative articles (data.charter.program)
// directly over the OPA value of the input, with OPA's own builtins for
// regular expressions, globs, quantities and JSON. It mirrors the generated
// Rego rule for rule (compiler/lib.rego and the article modules); the
// differential tests in this package hold the two paths together.
type native struct {
	scope     programv1.Scope
	templates *podtemplate.Table // where each kind keeps its pod, from the program
	articles  []*nativeArticle
	hatch     bool        // some article is raw Rego: OPA decides those
	cluster   ast.Value   // data.charter.cluster (nil: none)
	view      ClusterView // when set, read instead of cluster at each decision
}

type nativeArticle struct {
	programv1.Article
	ops  ast.Set
	cond *nCond
}

// nCond is a program condition with its operands converted once.
type nCond struct {
	any, all []*nCond
	not      *nCond
	cluster  *nCluster
	leaf     *programv1.Leaf
	operand  *ast.Term // equals, notEquals, in, notIn, string operators
	nanos    *big.Int  // lt, lte, gt, gte: the operand, as lib.nanos reads values
	// over is the path whose values the leaf tests (for removed, the path in
	// oldObject); from, for joins and the update operators, the path whose
	// values are the operand set; notIn negates membership in it; needOld
	// asks for an oldObject (added).
	over    *programv1.Path
	from    *programv1.Path
	notIn   bool
	needOld bool
}

var builtin = struct {
	member, regex, glob, marshal topdown.BuiltinFunc
}{
	member:  topdown.GetBuiltin(ast.Member.Name),
	regex:   topdown.GetBuiltin(ast.RegexMatch.Name),
	glob:    topdown.GetBuiltin(ast.GlobMatch.Name),
	marshal: topdown.GetBuiltin(ast.JSONMarshal.Name),
}

// readProgram decodes data.charter.program; nil when the bundle has none.
func readProgram(raw json.RawMessage) (*programv1.Program, error) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	return programv1.Decode(raw)
}

func newNative(p *programv1.Program) (*native, error) {
	n := &native{scope: p.Scope}
	list := p.PodTemplates
	if len(list) == 0 {
		list = podtemplate.Builtin() // a program written before it carried the table
	}
	templates, err := podtemplate.FromList(list)
	if err != nil {
		return nil, fmt.Errorf("program pod templates: %w", err)
	}
	n.templates = templates
	for _, a := range p.Articles {
		na := &nativeArticle{Article: a}
		if a.Hatch {
			n.hatch = true
		}
		ops := make([]*ast.Term, 0, len(a.Operations))
		for _, op := range a.Operations {
			ops = append(ops, ast.StringTerm(op))
		}
		na.ops = ast.NewSet(ops...)
		if a.Violation != nil {
			c, err := convertCondition(a.Violation)
			if err != nil {
				return nil, fmt.Errorf("article %s: %w", a.ID, err)
			}
			na.cond = c
		}
		n.articles = append(n.articles, na)
	}
	return n, nil
}

func convertCondition(c *programv1.Condition) (*nCond, error) {
	out := &nCond{}
	var err error
	switch {
	case c.Cluster != nil:
		out.cluster, err = convertCluster(c.Cluster)
	case c.Leaf != nil:
		out.leaf = c.Leaf
		out.over = &c.Leaf.Path
		oldPath := c.Leaf.Path
		oldPath.Root = programv1.RootOldObject
		switch {
		case c.Leaf.ValuesFrom != nil:
			out.from, out.notIn = c.Leaf.ValuesFrom, c.Leaf.Op == programv1.OpNotIn
			return out, nil
		case c.Leaf.Op == programv1.OpRemoved:
			out.over, out.from, out.notIn = &oldPath, &c.Leaf.Path, true
			return out, nil
		case c.Leaf.Op == programv1.OpAdded:
			out.from, out.notIn, out.needOld = &oldPath, true, true
			return out, nil
		case c.Leaf.Op == programv1.OpChanged:
			out.from = &oldPath
			return out, nil
		}
		switch c.Leaf.Op {
		case "lt", "lte", "gt", "gte":
			n, err := charter.Nanos(c.Leaf.Number)
			if err != nil {
				return nil, fmt.Errorf("operator %s: operand %q: %w", c.Leaf.Op, c.Leaf.Number, err)
			}
			out.nanos = n
		case "in", "notIn":
			list, ok := c.Leaf.Value.([]any)
			if !ok {
				return nil, fmt.Errorf("operator %s without a list", c.Leaf.Op)
			}
			terms := make([]*ast.Term, 0, len(list))
			for _, v := range list {
				t, err := ast.InterfaceToValue(v)
				if err != nil {
					return nil, err
				}
				terms = append(terms, ast.NewTerm(t))
			}
			out.operand = ast.NewTerm(ast.NewSet(terms...))
		case "exists", "absent", "changed", "removed", "added":
		default:
			v, err := ast.InterfaceToValue(c.Leaf.Value)
			if err != nil {
				return nil, err
			}
			out.operand = ast.NewTerm(v)
		}
	case c.Not != nil:
		out.not, err = convertCondition(c.Not)
	default:
		for _, s := range c.Any {
			k, err := convertCondition(s)
			if err != nil {
				return nil, err
			}
			out.any = append(out.any, k)
		}
		for _, s := range c.All {
			k, err := convertCondition(s)
			if err != nil {
				return nil, err
			}
			out.all = append(out.all, k)
		}
	}
	return out, err
}

// call runs one OPA builtin and returns its single output. ok is false when
// the builtin fails (a bad pattern, a wrong operand type) or is undefined: in
// Rego either makes the expression undefined, and the result must not be read.
func call(f topdown.BuiltinFunc, args ...*ast.Term) (out *ast.Term, ok bool) {
	err := f(topdown.BuiltinContext{Context: context.Background()}, args, func(t *ast.Term) error {
		out = t
		return nil
	})
	if err != nil || out == nil {
		return nil, false
	}
	return out, true
}

// holds runs a boolean builtin: true only when it succeeds and answers true,
// as a Rego expression made of the call holds.
func holds(f topdown.BuiltinFunc, args ...*ast.Term) bool {
	t, ok := call(f, args...)
	if !ok {
		return false
	}
	b, isBool := t.Value.(ast.Boolean)
	return isBool && bool(b)
}

// callString runs a builtin that answers a string.
func callString(f topdown.BuiltinFunc, args ...*ast.Term) (string, bool) {
	t, ok := call(f, args...)
	if !ok {
		return "", false
	}
	return isString(t.Value)
}

func isString(v ast.Value) (string, bool) {
	s, ok := v.(ast.String)
	return string(s), ok
}

// show renders a value as lib.show does.
func show(v ast.Value) string {
	switch x := v.(type) {
	case ast.String:
		return string(x)
	case ast.Null:
		return "<none>"
	}
	if s, ok := callString(builtin.marshal, ast.NewTerm(v)); ok {
		return s
	}
	return v.String()
}

// join and step build finding paths as lib.join and lib.step do.
func join(base, field string) string {
	if base == "" {
		return field
	}
	return base + "." + field
}

func step(path string, k ast.Value) string {
	switch x := k.(type) {
	case ast.Number:
		return fmt.Sprintf("%s[%s]", path, x.String())
	case ast.String:
		if s, ok := callString(builtin.marshal, ast.NewTerm(x)); ok {
			return path + "[" + s + "]"
		}
	}
	return path
}
