package compiler

import (
	"sort"
	"strings"

	"github.com/charter-dev/charter/charter"
	"github.com/open-policy-agent/opa/v1/ast"
)

// hatch is the parsed body of a raw Rego article: what it reads and calls,
// taken from OPA's own parse tree (comments, strings and keys are not
// references, so they can say "pod" or "obj" freely).
type hatch struct {
	vars  map[string]bool // variables the body reads, call operators aside
	calls []hatchCall     // every function the body calls
	other []hatchCall     // references to other articles' rules (data.charter, data as a whole)
}

// hatchCall is one call in a raw Rego body, at its row and column in the
// body, or (ref) a builtin named as a value: a with target or value, which
// can make a call of another function call it.
type hatchCall struct {
	name     string
	row, col int
	ref      bool
}

// parseHatch parses a rego: body as the body of a Rego v1 rule.
func parseHatch(src string) (*hatch, error) {
	body, err := ast.ParseBodyWithOpts(src, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, err
	}
	h := &hatch{vars: map[string]bool{}}
	var vis *ast.GenericVisitor
	call := func(op *ast.Term, args []*ast.Term) {
		row, col := 0, 0
		if op.Location != nil {
			row, col = op.Location.Row, op.Location.Col
		}
		h.calls = append(h.calls, hatchCall{name: op.String(), row: row, col: col})
		if r, ok := op.Value.(ast.Ref); ok && reachesArticles(r) {
			h.other = append(h.other, hatchCall{name: r.String(), row: row, col: col})
		}
		for _, a := range args {
			vis.Walk(a)
		}
	}
	vis = ast.NewGenericVisitor(func(x any) bool {
		switch v := x.(type) {
		case *ast.Expr:
			if v.IsCall() {
				call(v.OperatorTerm(), v.Operands())
				for _, w := range v.With {
					vis.Walk(w)
				}
				return true
			}
		case *ast.Term:
			if c, ok := v.Value.(ast.Call); ok {
				call(c[0], c[1:])
				return true
			}
			if r, ok := v.Value.(ast.Ref); ok && reachesArticles(r) {
				row, col := 0, 0
				if v.Location != nil {
					row, col = v.Location.Row, v.Location.Col
				}
				h.other = append(h.other, hatchCall{name: r.String(), row: row, col: col})
			}
			if name := builtinNamed(v); name != "" {
				row, col := 0, 0
				if v.Location != nil {
					row, col = v.Location.Row, v.Location.Col
				}
				h.calls = append(h.calls, hatchCall{name: name, row: row, col: col, ref: true})
			}
		case ast.Var:
			h.vars[string(v)] = true
		}
		return false
	})
	vis.Walk(body)
	return h, nil
}

// builtinNamed is the builtin a term names when it is not called (a with
// target or value, `with json.marshal as http.send`), or "".
func builtinNamed(t *ast.Term) string {
	var name string
	switch v := t.Value.(type) {
	case ast.Var:
		name = string(v)
	case ast.Ref:
		if !v[1:].IsGround() {
			return ""
		}
		name = v.String()
	default:
		return ""
	}
	if _, ok := ast.BuiltinMap[name]; ok {
		return name
	}
	return ""
}

// reachesArticles reports whether a reference can evaluate rules charter
// generated (other articles, the decision): data as a whole, data[x] with x
// not a constant, data.charter other than data.charter.lib. Through them raw
// Rego would reach builtins only another charter file allows.
func reachesArticles(r ast.Ref) bool {
	if !r[0].Equal(ast.DefaultRootDocument) {
		return false
	}
	if len(r) < 2 {
		return true
	}
	root, ok := r[1].Value.(ast.String)
	if !ok {
		return true
	}
	if root != "charter" {
		return false
	}
	return len(r) < 3 || !r[2].Equal(ast.StringTerm("lib"))
}

// hatchOf parses an article's raw Rego; nil when it has none or it does not
// parse (Compile reports that).
func hatchOf(a *charter.Article) *hatch {
	if a.Rego == "" {
		return nil
	}
	h, err := parseHatch(a.Rego)
	if err != nil {
		return nil
	}
	return h
}

// reads reports whether the body reads the variable name.
func (h *hatch) reads(name string) bool { return h != nil && h.vars[name] }

// hatchErrors positions OPA parse errors of a raw Rego body in the charter.
func hatchErrors(a *charter.Article, err error) charter.ErrorList {
	var list charter.ErrorList
	astErrs, ok := err.(ast.Errors)
	if !ok {
		list.Add(a.RegoPos, "rego: %v", err)
		return list
	}
	for _, e := range astErrs {
		row, col := 0, 0
		if e.Location != nil {
			row, col = e.Location.Row, e.Location.Col
		}
		list.Add(hatchPos(a, row, col), "rego: %s", e.Message)
	}
	return list
}

// hatchPos maps a row and column of a rego: body (1-based) to the charter.
func hatchPos(a *charter.Article, row, col int) charter.Pos {
	pos := a.RegoPos
	if row > 0 {
		pos.Line += row - 1
		pos.Col += max(col-1, 0)
	}
	return pos
}

// alwaysAllowed are the non-deterministic builtins raw Rego may call without
// an opt-in: they read the clock, nothing else (change freezes, expiry dates).
var alwaysAllowed = map[string]bool{"time.now_ns": true, "io.jwt.decode_verify": true}

// restricted reports whether raw Rego needs spec.regoCapabilities to call b:
// every builtin OPA marks non-deterministic (network: http.send,
// net.lookup_ip_addr, json.match_schema's remote references; host
// inspection: opa.runtime; randomness: rand.intn, uuid.rfc4122,
// io.jwt.encode_sign) except those that only read the clock.
func restricted(b *ast.Builtin) bool { return b.Nondeterministic && !alwaysAllowed[b.Name] }

// RestrictedBuiltins lists, sorted, the builtins raw Rego articles may call
// only when their charter allows them in spec.regoCapabilities.
func RestrictedBuiltins() []string {
	var out []string
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		if restricted(b) {
			out = append(out, b.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Capabilities is the OPA capabilities set charter compiles and evaluates
// bundles with: this OPA's builtins, without the restricted ones that allow
// does not name.
func Capabilities(allow []string) *ast.Capabilities {
	ok := map[string]bool{}
	for _, n := range allow {
		ok[n] = true
	}
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0:0]
	for _, b := range caps.Builtins {
		if !restricted(b) || ok[b.Name] {
			kept = append(kept, b)
		}
	}
	caps.Builtins = kept
	return caps
}

// checkCapabilities reports names in spec.regoCapabilities.allow that are
// not builtins of this OPA.
func checkCapabilities(rc *charter.RegoCapabilities) charter.ErrorList {
	var list charter.ErrorList
	known := map[string]bool{}
	for _, b := range ast.CapabilitiesForThisVersion().Builtins {
		known[b.Name] = true
	}
	for _, b := range rc.Allow {
		if !known[b.Name] {
			list.Add(b.Pos, "regoCapabilities.allow: %q is not an OPA builtin (restricted ones: %s)", b.Name, strings.Join(RestrictedBuiltins(), ", "))
		}
	}
	return list
}

// checkBuiltins reports each call of a restricted builtin the article's
// charter does not allow, at the call's position in the charter.
func checkBuiltins(a *charter.Article, h *hatch) charter.ErrorList {
	allowed := map[string]bool{}
	if rc := a.RegoCapabilities; rc != nil {
		for _, b := range rc.Allow {
			allowed[b.Name] = true
		}
	}
	deny := map[string]bool{}
	for _, n := range RestrictedBuiltins() {
		deny[n] = !allowed[n]
	}
	var list charter.ErrorList
	for _, c := range h.other {
		list.Add(hatchPos(a, c.row, c.col), "rego: article %s reads %s: raw Rego may read data.charter.lib and data outside data.charter, not charter's own rules (other articles may call builtins this charter does not allow)", a.ID, c.name)
	}
	for _, c := range h.calls {
		if deny[c.name] && c.ref {
			list.Add(hatchPos(a, c.row, c.col), "rego: article %s refers to %s (in a with or as a value, which can call it), which raw Rego may not call by default (network, host or randomness); if this charter must, add it to spec.regoCapabilities.allow", a.ID, c.name)
		} else if deny[c.name] {
			list.Add(hatchPos(a, c.row, c.col), "rego: article %s calls %s, which raw Rego may not call by default (network, host or randomness); if this charter must, add it to spec.regoCapabilities.allow", a.ID, c.name)
		}
	}
	return list
}

// allowedBuiltins is every builtin some article's charter allows, sorted.
func allowedBuiltins(c *charter.Charter) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range c.Spec.Articles {
		if a.RegoCapabilities == nil {
			continue
		}
		for _, b := range a.RegoCapabilities.Allow {
			if !seen[b.Name] {
				seen[b.Name] = true
				out = append(out, b.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}
