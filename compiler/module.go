package compiler

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/charter-dev/charter/charter"
	"github.com/open-policy-agent/opa/v1/ast"
)

// module is one generated article module, with where its rego hatch sits.
type module struct {
	article   *charter.Article
	path      string
	pkg       string
	src       string
	hatchLine int // first line of the rego hatch body in src (1-based), 0 if none
}

func articleModule(a *charter.Article) *module {
	g := &articleGen{a: a}
	if a.Foreach != nil {
		g.r.foreach = a.Foreach.As
	}
	m := &module{article: a, pkg: packageName(a.ID)}
	m.path = "charter/articles/" + m.pkg + ".rego"
	w := &g.w
	writeMetadata(w, a)
	w.line(0, "package charter.articles.%s", m.pkg)
	w.blank()
	w.line(0, "import data.charter.lib")
	w.blank()

	// "*" matches every kind; only an explicit Pod (or a pod path) walks pod templates.
	pods, checkKind := g.plan()
	have := args{true, pods, a.Foreach != nil}
	ruleStart := len(w.b.String())
	w.line(0, "findings contains finding if {")
	g.matchLines(checkKind)
	objLine := len(w.b.String())
	w.line(1, "obj := lib.resource")
	fallback := `""`
	if pods {
		w.line(1, "some pod in lib.pods")
		fallback = "pod.path"
	}
	if f := a.Foreach; f != nil {
		fallback = "el.path"
		switch {
		case f.Over == "containers":
			w.line(1, "some el in lib.containers(pod)")
		case f.Over == "volumes":
			w.line(1, "some el in lib.volumes(pod)")
		default:
			use := g.r.uses(f.Path)
			w.line(1, "some el in elements(%s)", use.call(have))
			res := g.r.resolve(f.Path, "", true)
			g.funcs.line(0, "elements(%s) := {{\"path\": %s, \"value\": %s} |", use.params(), res.path, res.value)
			for _, s := range res.present() {
				g.funcs.line(1, "%s", s)
			}
			g.funcs.line(0, "}")
			g.funcs.blank()
		}
	}
	witness := "set()"
	if a.Violation != nil {
		n := g.condition(a.Violation)
		use := g.usesOf(a.Violation)
		if lines := g.inline(a.Violation, ""); lines != nil {
			for _, l := range lines {
				w.line(1, "%s", l)
			}
		} else {
			w.line(1, "%s", g.callC(n, use, have))
		}
		witness = fmt.Sprintf("w%d(%s)", n, g.witnessUses(a.Violation).call(have))
	} else {
		podArg, elArg := "null", "null"
		if pods {
			podArg = "pod.value"
		}
		if a.Foreach != nil {
			elArg = "el.value"
		}
		w.line(1, "hatch(obj, %s, %s)", podArg, elArg)
	}
	w.line(1, "w := lib.witness(%s, %s)", witness, fallback)
	msg := g.message(a.Message, have)
	w.line(1, "finding := {")
	w.line(2, `"article": %s,`, term(a.ID))
	w.line(2, `"title": %s,`, term(a.Title))
	w.line(2, `"action": %s,`, term(a.Action))
	w.line(2, `"severity": %s,`, term(a.Severity))
	w.line(2, `"message": %s,`, msg)
	w.line(2, `"path": w.path,`)
	w.line(1, "}")
	w.line(0, "}")
	dropUnusedObj(&w.b, ruleStart, objLine)
	w.blank()
	g.flushLeaves()
	w.b.Write(g.funcs.b.Bytes())
	if a.Violation == nil {
		names := []string{"resource", "pod", "_"}
		if a.Foreach != nil {
			names[2] = a.Foreach.As
		}
		h := hatchOf(a)
		for i, n := range names {
			if !h.reads(n) {
				names[i] = "_"
			}
		}
		w.line(0, "hatch(%s) if {", strings.Join(names, ", "))
		m.hatchLine = strings.Count(w.b.String(), "\n") + 1
		for _, l := range strings.Split(strings.TrimRight(a.Rego, "\n"), "\n") {
			w.line(1, "%s", l)
		}
		w.line(0, "}")
	}
	m.src = w.b.String()
	return m
}

// readsPod reports whether any path or placeholder of the article starts at pod.
func (g *articleGen) readsPod() bool {
	a := g.a
	if f := a.Foreach; f != nil && (f.Path == nil || f.Path.Root == "pod") {
		return true
	}
	if hatchOf(a).reads("pod") {
		return true
	}
	found := false
	var walk func(c *charter.Condition)
	walk = func(c *charter.Condition) {
		if c == nil {
			return
		}
		if c.Leaf != nil && (c.Leaf.Path.Root == "pod" || c.Leaf.ValuesFrom != nil && c.Leaf.ValuesFrom.Root == "pod") {
			found = true
		}
		if q := c.Cluster; q != nil {
			for _, p := range clusterPaths(q) {
				found = found || p.Root == "pod"
			}
		}
		for _, s := range append(append([]*charter.Condition{}, c.Any...), c.All...) {
			walk(s)
		}
		walk(c.Not)
	}
	walk(a.Violation)
	if a.Message != nil {
		for _, p := range a.Message.Parts {
			found = found || p.Path != nil && p.Path.Root == "pod"
		}
	}
	return found
}

// plan decides whether the article walks lib.pods (it reads pod, or the
// containers or volumes), and whether it needs a kind test: kinds [Pod] over
// lib.pods needs none, lib.pods is empty for objects without a pod.
func (g *articleGen) plan() (pods, checkKind bool) {
	pods = g.readsPod()
	k := g.a.Match.Kinds
	return pods, !(pods && len(k) == 1 && k[0] == "Pod")
}

func (g *articleGen) matchLines(checkKind bool) {
	m, w := g.a.Match, &g.w
	w.line(1, "lib.in_scope")
	if checkKind {
		w.line(1, "lib.kind_matches(%s, %v)", stringSet(m.Kinds), m.CoversPods())
	}
	switch ops := m.Operations; {
	case len(ops) == 0 || len(ops) == 2 && contains(ops, "CREATE") && contains(ops, "UPDATE"):
		w.line(1, "lib.create_or_update")
	case !contains(ops, "*"):
		w.line(1, "lib.operation in %s", stringSet(ops))
	}
	if len(m.Namespaces) > 0 {
		w.line(1, "lib.namespace_matches(%s)", term(m.Namespaces))
	}
	if len(m.ExcludeNamespaces) > 0 {
		w.line(1, "not lib.namespace_matches(%s)", term(m.ExcludeNamespaces))
	}
	if s := m.LabelSelector; s != nil {
		keys := make([]string, 0, len(s.MatchLabels))
		for k := range s.MatchLabels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w.line(1, "lib.labels[%s] == %s", term(k), term(s.MatchLabels[k]))
		}
		for _, e := range s.MatchExpressions {
			switch e.Operator {
			case "In":
				w.line(1, "lib.labels[%s] in %s", term(e.Key), stringSet(e.Values))
			case "NotIn":
				// Kubernetes: NotIn also matches objects without the label.
				w.line(1, "not object.get(lib.labels, %s, null) in %s", term(e.Key), stringSet(e.Values))
			case "Exists":
				w.line(1, "lib.labels[%s]", term(e.Key))
			case "DoesNotExist":
				w.line(1, "not lib.labels[%s]", term(e.Key))
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// writeMetadata writes the # METADATA annotation block opa inspect reads.
func writeMetadata(w *writer, a *charter.Article) {
	w.line(0, "# METADATA")
	w.line(0, "# title: %s", term(a.Title))
	if a.Description != "" {
		w.line(0, "# description: %s", term(strings.TrimSpace(a.Description)))
	}
	w.line(0, "# custom:")
	w.line(0, "#   id: %s", term(a.ID))
	w.line(0, "#   severity: %s", a.Severity)
	w.line(0, "#   action: %s", a.Action)
}

// dropUnusedObj removes the findings rule's obj assignment (at offset at;
// the rule starts at start and ends the buffer) when nothing else in the rule
// reads the variable obj: strict mode rejects unused assignments. It asks
// OPA's parser, so titles and messages that say "obj" do not count.
func dropUnusedObj(b *bytes.Buffer, start, at int) {
	const assign = "\tobj := lib.resource\n"
	src := b.String()
	without := src[:at] + src[at+len(assign):]
	rule, err := ast.ParseRuleWithOpts(without[start:], ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return // the compiler reports it; keep the assignment
	}
	used := false
	ast.WalkVars(rule.Body, func(v ast.Var) bool {
		used = used || v == "obj"
		return used
	})
	if !used {
		b.Reset()
		b.WriteString(without)
	}
}
