package compiler

import (
	"fmt"
	"strings"

	"github.com/charter-dev/charter/charter"
)

// articleGen writes the module of one article.
type articleGen struct {
	a     *charter.Article
	r     roots
	w     writer
	funcs writer // helper functions, written after the findings rule
	next  int
	// Leaves are mostly written inline in their parent's body; their own
	// cN function is written only when something calls it.
	leafC  map[int]string
	called map[int]bool
}

// callC renders a call of cN and records that it is needed.
func (g *articleGen) callC(n int, callee, have args) string {
	if g.called == nil {
		g.called = map[int]bool{}
	}
	g.called[n] = true
	return fmt.Sprintf("c%d(%s)", n, callee.call(have))
}

// flushLeaves writes the cN functions of leaves that something calls.
func (g *articleGen) flushLeaves() {
	for n := 0; n < g.next; n++ {
		if src, ok := g.leafC[n]; ok && g.called[n] {
			g.funcs.b.WriteString(src)
		}
	}
}

func (g *articleGen) id() int {
	n := g.next
	g.next++
	return n
}

// usesOf returns the arguments a condition tree reads.
func (g *articleGen) usesOf(c *charter.Condition) args {
	var a args
	if c.Leaf != nil {
		return g.r.leafUses(c.Leaf)
	}
	if c.Cluster != nil {
		for _, p := range clusterPaths(c.Cluster) {
			a = a.or(g.r.uses(p))
		}
		return a
	}
	for _, s := range c.Any {
		a = a.or(g.usesOf(s))
	}
	for _, s := range c.All {
		a = a.or(g.usesOf(s))
	}
	if c.Not != nil {
		a = a.or(g.usesOf(c.Not))
	}
	return a
}

// witnessUses returns the arguments the witness function of c reads.
func (g *articleGen) witnessUses(c *charter.Condition) args {
	var a args
	switch {
	case c.Leaf != nil:
		return g.leafWitnessUses(c.Leaf)
	case len(c.Any) > 0:
		for _, s := range c.Any {
			if s.Not == nil {
				a = a.or(g.usesOf(s))
			}
		}
	default:
		for _, s := range c.All {
			if s.Not == nil {
				a = a.or(g.witnessUses(s))
			}
		}
	}
	return a
}

// leafWitnessUses: an absent leaf's witness is a path, constant for the
// object and request roots.
func (g *articleGen) leafWitnessUses(l *charter.Leaf) args {
	if constWitness(l) && (l.Path.Root == "object" || l.Path.Root == "request" || l.Path.Root == "oldObject") {
		return args{}
	}
	return g.r.leafUses(l)
}

// constWitness: the leaf's witness is its path without a value (absent,
// changed), so a branch must test that the leaf holds before using it.
func constWitness(l *charter.Leaf) bool { return l.Op == "absent" || l.Op == "changed" }

// inline returns the body of a leaf to write in place of a call to it, or
// nil when c is not such a leaf. Fewer calls make evaluation faster.
func (g *articleGen) inline(c *charter.Condition, prefix string) []string {
	if c.Leaf == nil || constWitness(c.Leaf) {
		return nil
	}
	return g.r.body(g.r.leafResolve(c.Leaf, prefix, false), c.Leaf, prefix)
}

// condition writes cN (holds) and wN (witness set) for c and returns N.
func (g *articleGen) condition(c *charter.Condition) int {
	n := g.id()
	use := g.usesOf(c)
	p := use.params()
	f := &g.funcs
	switch {
	case c.Leaf != nil:
		g.leaf(n, c.Leaf, use)
	case c.Cluster != nil:
		g.cluster(n, c.Cluster, use)
	case c.Not != nil:
		sub := g.condition(c.Not)
		f.line(0, "c%d(%s) if not %s", n, p, g.callC(sub, g.usesOf(c.Not), use))
		f.blank()
		f.line(0, "w%d(%s) := set()", n, args{}.params())
		f.blank()
	case len(c.Any) > 0:
		var subs []int
		for _, s := range c.Any {
			subs = append(subs, g.condition(s))
		}
		for i, s := range subs {
			// Each body names only what it reads: strict mode checks every body.
			kid := g.usesOf(c.Any[i])
			if lines := g.inline(c.Any[i], ""); lines != nil {
				f.line(0, "c%d(%s) if {", n, kid.params())
				for _, l := range lines {
					f.line(1, "%s", l)
				}
				f.line(0, "}")
			} else {
				f.line(0, "c%d(%s) if %s", n, kid.params(), g.callC(s, kid, kid))
			}
			f.blank()
		}
		g.witnessChain(n, use, subs, c.Any, "c")
	default:
		var subs []int
		for _, s := range c.All {
			subs = append(subs, g.condition(s))
		}
		f.line(0, "c%d(%s) if {", n, p)
		for i, s := range subs {
			if lines := g.inline(c.All[i], fmt.Sprintf("a%d_", i)); lines != nil {
				for _, l := range lines {
					f.line(1, "%s", l)
				}
				continue
			}
			f.line(1, "%s", g.callC(s, g.usesOf(c.All[i]), use))
		}
		f.line(0, "}")
		f.blank()
		g.witnessChain(n, use, subs, c.All, "w")
	}
	return n
}

// witnessChain writes wN as the witness of the first child that holds (any,
// test "c") or the first non-empty child witness (all, test "w").
func (g *articleGen) witnessChain(n int, _ args, subs []int, kids []*charter.Condition, by string) {
	f := &g.funcs
	first := true
	wuse := g.witnessUses(&charter.Condition{Any: kids})
	if by == "w" {
		wuse = g.witnessUses(&charter.Condition{All: kids})
	}
	for i, s := range subs {
		if kids[i].Not != nil {
			continue
		}
		wcall := g.witnessUses(kids[i]).call(wuse)
		head := "} else := ws if {"
		if first {
			head = fmt.Sprintf("w%d(%s) := ws if {", n, wuse.params())
			first = false
		}
		f.line(0, "%s", head)
		if by == "c" && (kids[i].Leaf == nil || constWitness(kids[i].Leaf)) {
			// A branch that does not hold may still have a witness: a leaf
			// under it that holds, or an absent leaf's constant path.
			f.line(1, "%s", g.callC(s, g.usesOf(kids[i]), wuse))
			f.line(1, "ws := w%d(%s)", s, wcall)
		} else {
			f.line(1, "ws := w%d(%s)", s, wcall)
			f.line(1, "count(ws) > 0")
		}
	}
	if first {
		f.line(0, "w%d(%s) := set()", n, args{}.params())
	} else {
		f.line(0, "} else := set()")
	}
	f.blank()
}

func (g *articleGen) leaf(n int, l *charter.Leaf, use args) {
	f := &g.funcs
	p := use.params()
	switch l.Op {
	case "absent":
		res := g.r.resolve(l.Path, "", false)
		f.line(0, "x%d(%s) if {", n, p)
		for _, s := range res.present() {
			f.line(1, "%s", s)
		}
		f.line(0, "}")
		f.blank()
		f.line(0, "c%d(%s) if not x%d(%s)", n, p, n, use.call(use))
		f.blank()
		f.line(0, "w%d(%s) := {{\"path\": %s, \"value\": null}}", n, g.leafWitnessUses(l).params(), g.r.staticPath(l.Path))
		f.blank()
		return
	case "changed":
		f.line(0, "c%d(%s) if {", n, p)
		for _, s := range g.r.changed(l, "") {
			f.line(1, "%s", s)
		}
		f.line(0, "}")
		f.blank()
		f.line(0, "w%d(%s) := {{\"path\": %s, \"value\": null}}", n, g.leafWitnessUses(l).params(), g.r.staticPath(l.Path))
		f.blank()
		return
	}
	res := g.r.leafResolve(l, "", false)
	var c writer
	c.line(0, "c%d(%s) if {", n, p)
	for _, s := range g.r.body(res, l, "") {
		c.line(1, "%s", s)
	}
	c.line(0, "}")
	c.blank()
	if g.leafC == nil {
		g.leafC = map[int]string{}
	}
	g.leafC[n] = c.b.String()
	res = g.r.leafResolve(l, "", true)
	f.line(0, "w%d(%s) := {{\"path\": %s, \"value\": %s} |", n, p, res.path, res.value)
	for _, s := range g.r.body(res, l, "") {
		f.line(1, "%s", s)
	}
	f.line(0, "}")
	f.blank()
}

// message writes one function per placeholder and returns the Rego
// expression of the whole message.
func (g *articleGen) message(t *charter.Template, have args) string {
	var parts []string
	for _, part := range t.Parts {
		if part.Path == nil {
			parts = append(parts, term(part.Text))
			continue
		}
		switch part.Path.Root {
		case "value":
			parts = append(parts, "w.value")
			continue
		case "values":
			parts = append(parts, "w.values")
			continue
		case "field":
			parts = append(parts, "w.path")
			continue
		}
		n := g.id()
		use := g.r.uses(part.Path)
		base, _ := g.r.base(part.Path.Root)
		ref := base
		for _, s := range part.Path.Segs {
			if s.Kind == charter.SegIndex {
				ref += fmt.Sprintf("[%d]", s.Index)
			} else {
				ref += field(s.Name)
			}
		}
		g.funcs.line(0, "m%d(%s) := s if {", n, use.params())
		g.funcs.line(1, "s := lib.show(%s)", ref)
		g.funcs.line(0, `} else := "<none>"`)
		g.funcs.blank()
		parts = append(parts, fmt.Sprintf("m%d(%s)", n, use.call(have)))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "concat(\"\", [" + strings.Join(parts, ", ") + "])"
}
