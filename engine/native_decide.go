package engine

import (
	"math/big"
	"strings"

	"github.com/charter-dev/charter/charter"
	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
)

// holds is cN: whether the condition holds in s.
func (c *nCond) holds(s scope) bool {
	switch {
	case c.cluster != nil:
		return c.cluster.holds(s)
	case c.leaf != nil && c.leaf.Op == "absent":
		found := false
		s.values(&c.leaf.Path, func(v ast.Value) bool {
			found = !isNull(v)
			return !found
		})
		return !found
	case c.leaf != nil && c.leaf.Op == "changed":
		if s.e.old == nil {
			return false
		}
		return s.valueSet(&c.leaf.Path).Compare(s.valueSet(c.from)) != 0
	case c.leaf != nil:
		if c.needOld && s.e.old == nil {
			return false
		}
		test := c.tester(s)
		found := false
		s.values(c.over, func(v ast.Value) bool {
			found = test(v)
			return !found
		})
		return found
	case c.not != nil:
		return !c.not.holds(s)
	case len(c.any) > 0:
		for _, k := range c.any {
			if k.holds(s) {
				return true
			}
		}
		return false
	}
	for _, k := range c.all {
		if !k.holds(s) {
			return false
		}
	}
	return true
}

func isNull(v ast.Value) bool {
	_, ok := v.(ast.Null)
	return ok
}

// tester is the leaf's test in s: for a join or an update operator,
// membership in the values of its from path, else test.
func (c *nCond) tester(s scope) func(ast.Value) bool {
	if c.from == nil {
		return c.test
	}
	set := ast.NewTerm(s.valueSet(c.from))
	return func(v ast.Value) bool {
		return !isNull(v) && holds(builtin.member, ast.NewTerm(v), set) != c.notIn
	}
}

// test is the leaf's operator on one value. A null value never satisfies an
// operator: either the generated null check or the operator itself rejects it.
func (c *nCond) test(v ast.Value) bool {
	if isNull(v) {
		return false
	}
	l := c.leaf
	switch l.Op {
	case "exists":
		return true
	case "equals":
		return ast.Compare(v, c.operand.Value) == 0
	case "notEquals":
		return ast.Compare(v, c.operand.Value) != 0
	case "in":
		return holds(builtin.member, ast.NewTerm(v), c.operand)
	case "notIn":
		return !holds(builtin.member, ast.NewTerm(v), c.operand)
	case "lt", "lte", "gt", "gte":
		q, ok := valueNanos(v)
		if !ok {
			return false
		}
		cmp := q.Cmp(c.nanos)
		switch l.Op {
		case "lt":
			return cmp < 0
		case "lte":
			return cmp <= 0
		case "gt":
			return cmp > 0
		}
		return cmp >= 0
	}
	str, ok := isString(v)
	if !ok {
		return false
	}
	op, negate := string(l.Op), false
	if strings.HasPrefix(op, "not") {
		op, negate = strings.ToLower(op[3:4])+op[4:], true
	}
	return stringTest(op, c.operand, str) != negate
}

// valueNanos is lib.nanos: a quantity string, or a number read from its JSON
// text (json.marshal, as the Rego reads it), in nanos.
func valueNanos(v ast.Value) (*big.Int, bool) {
	var text string
	switch x := v.(type) {
	case ast.String:
		text = string(x)
	case ast.Number:
		s, ok := callString(builtin.marshal, ast.NewTerm(x))
		if !ok {
			return nil, false
		}
		text = s
	default:
		return nil, false
	}
	n, err := charter.Nanos(text)
	return n, err == nil
}

func stringTest(op string, operand *ast.Term, s string) bool {
	pattern, _ := isString(operand.Value)
	switch op {
	case "matches":
		return holds(builtin.regex, operand, ast.StringTerm(s))
	case "glob":
		return holds(builtin.glob, operand, ast.NullTerm(), ast.StringTerm(s))
	case "prefix":
		return strings.HasPrefix(s, pattern)
	case "suffix":
		return strings.HasSuffix(s, pattern)
	}
	return strings.Contains(s, pattern)
}

// witness is wN: the offending values, as a set of {path, value}.
type witness []elem

func (c *nCond) witness(s scope) witness {
	switch {
	case c.cluster != nil:
		return c.cluster.witness()
	case c.leaf != nil && (c.leaf.Op == "absent" || c.leaf.Op == "changed"):
		_, base, _ := s.root(c.leaf.Path.Root)
		if c.leaf.Path.Root == programv1.RootOldObject {
			base = "oldObject" // constant in the Rego, with or without an oldObject
		}
		rest := c.leaf.Static
		path := base
		switch {
		case rest == "":
		case c.leaf.Path.Root == "object":
			path = rest
		default:
			path = join(base, rest)
		}
		return witness{{path: path, value: ast.Null{}}}
	case c.leaf != nil:
		if c.needOld && s.e.old == nil {
			return nil
		}
		test := c.tester(s)
		var out witness
		s.resolve(c.over, func(p string, v ast.Value) bool {
			if test(v) {
				out = append(out, elem{path: p, value: v})
			}
			return true
		})
		return out
	case c.not != nil:
		return nil
	case len(c.any) > 0:
		// The first branch that holds; a leaf holds exactly when its witness is not empty.
		for _, k := range c.any {
			switch {
			case k.not != nil:
			case k.leaf != nil && k.leaf.Op != "absent" && k.leaf.Op != "changed":
				if w := k.witness(s); len(w) > 0 {
					return w
				}
			case k.holds(s):
				return k.witness(s)
			}
		}
		return nil
	}
	for _, k := range c.all {
		if k.not != nil {
			continue
		}
		if w := k.witness(s); len(w) > 0 {
			return w
		}
	}
	return nil
}

// summary is lib.witness: the first offending value in set order, every
// offending value, and the path; or the fallback.
func (w witness) summary(fallback string) (path, value, values string) {
	if len(w) == 0 {
		return fallback, "<none>", "<none>"
	}
	set := ast.NewSet()
	shown := make([]string, 0, len(w))
	for _, e := range w {
		set.Add(ast.ObjectTerm(ast.Item(ast.StringTerm("path"), ast.StringTerm(e.path)), ast.Item(ast.StringTerm("value"), ast.NewTerm(e.value))))
		shown = append(shown, show(e.value))
	}
	first := set.Sorted().Elem(0).Value.(ast.Object)
	return string(first.Get(ast.StringTerm("path")).Value.(ast.String)), show(first.Get(ast.StringTerm("value")).Value), strings.Join(sortStrings(shown), ", ")
}

// findings adds the article's findings in e to out.
func (a *nativeArticle) findings(e *env, out ast.Set) (applies bool) {
	if !a.matches(e) {
		return false
	}
	a.eachScope(e, func(s scope) { a.finding(s, out) })
	return a.hasPods(e)
}

// hasPods is false when the article is decided once per pod (it names no
// kind to match) and e embeds none: then it does not apply to e. Explain
// gives it as the skip reason after the scope.
func (a *nativeArticle) hasPods(e *env) bool {
	return a.CheckKind || !a.Pods || len(e.pods) > 0
}

// eachScope calls f with every scope the article checks in e: the object,
// or each pod of it (Pods), or each element its foreach names in each.
func (a *nativeArticle) eachScope(e *env, f func(scope)) {
	pods := []*elem{nil}
	if a.Pods {
		pods = pods[:0]
		for i := range e.pods {
			pods = append(pods, &e.pods[i])
		}
	}
	for _, pod := range pods {
		var els []elem
		switch a.Foreach {
		case "":
			f(scope{e: e, pod: pod})
			continue
		case "containers":
			els = e.containers(*pod)
		case "volumes":
			els = e.volumes(*pod)
		default:
			scope{e: e, pod: pod}.resolve(a.Each, func(p string, v ast.Value) bool {
				if !isNull(v) {
					els = append(els, elem{path: p, value: v})
				}
				return true
			})
		}
		for i := range els {
			f(scope{e: e, pod: pod, el: &els[i]})
		}
	}
}

func (a *nativeArticle) finding(s scope, out ast.Set) {
	if !a.cond.holds(s) {
		return
	}
	path, value, values := a.cond.witness(s).summary(s.at())
	var msg strings.Builder
	for _, part := range a.Message {
		switch {
		case part.Ref != nil:
			msg.WriteString(s.show(part.Ref))
		case part.Witness == "value":
			msg.WriteString(value)
		case part.Witness == "values":
			msg.WriteString(values)
		case part.Witness == "field":
			msg.WriteString(path)
		default:
			msg.WriteString(part.Text)
		}
	}
	out.Add(ast.ObjectTerm(
		ast.Item(ast.StringTerm("article"), ast.StringTerm(a.ID)),
		ast.Item(ast.StringTerm("title"), ast.StringTerm(a.Title)),
		ast.Item(ast.StringTerm("action"), ast.StringTerm(string(a.Action))),
		ast.Item(ast.StringTerm("severity"), ast.StringTerm(a.Severity)),
		ast.Item(ast.StringTerm("message"), ast.StringTerm(msg.String())),
		ast.Item(ast.StringTerm("path"), ast.StringTerm(path)),
	))
}

// show renders a message placeholder as mN does: the value at the path, or
// <none> when the path reaches nothing.
func (s scope) show(p *programv1.Path) string {
	v, _, ok := s.root(p.Root)
	if !ok || v == nil {
		return "<none>"
	}
	for _, st := range p.Steps {
		switch st.Kind {
		case programv1.StepIndex:
			arr, ok := v.(*ast.Array)
			if !ok || st.Index >= arr.Len() {
				return "<none>"
			}
			v = arr.Elem(st.Index).Value
		default:
			if v = get(v, st.Name); v == nil {
				return "<none>"
			}
		}
	}
	return show(v)
}

// decide returns the findings of the declarative articles, the input's
// environment (nil when no article can apply), how many articles apply to
// the input (as Explain counts them), and whether some raw-Rego article
// matches the input (then OPA must decide those).
func (n *native) decide(input ast.Value) (ast.Set, *env, int, bool) {
	out := ast.NewSet()
	e, ok := n.env(input)
	if !ok {
		return out, nil, 0, false
	}
	applied, needHatch := 0, false
	for _, a := range n.articles {
		if a.Hatch {
			m := a.matches(e)
			needHatch = needHatch || m
			if m && a.hasPods(e) {
				applied++
			}
			continue
		}
		if a.findings(e, out) {
			applied++
		}
	}
	return out, e, applied, needHatch
}
