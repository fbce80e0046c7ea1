package chartergen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
)

// Charter returns a random charter, as YAML text, that the language accepts:
// one that does not validate is a bug of this generator.
func Charter(r *rand.Rand) string {
	g := &charterGen{r: r}
	return g.charter()
}

type charterGen struct {
	r *rand.Rand
	b strings.Builder
	// params are the parameters some leaf took its operand from (declared,
	// with the operand as default, after the articles).
	params, paramNames []string
}

func (g *charterGen) line(indent int, format string, args ...any) {
	g.b.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(&g.b, format, args...)
	g.b.WriteByte('\n')
}

func (g *charterGen) chance(n int) bool { return g.r.IntN(n) == 0 }

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// some picks 1..max distinct items.
func some[T comparable](r *rand.Rand, list []T, max int) []T {
	n := 1 + r.IntN(max)
	var out []T
	for range n {
		x := pick(r, list)
		dup := false
		for _, y := range out {
			dup = dup || x == y
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}

// q renders a string as a YAML (JSON) quoted scalar.
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func qlist(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = q(s)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func (g *charterGen) charter() string {
	g.line(0, "apiVersion: charter.dev/v1")
	g.line(0, "kind: Charter")
	g.line(0, "metadata: {name: generated, version: 0.0.%d}", g.r.IntN(100))
	g.line(0, "spec:")
	if !g.chance(3) {
		g.line(1, "defaults: {action: %s, severity: %s}", pick(g.r, []string{"deny", "warn", "audit"}), pick(g.r, []string{"critical", "high", "medium", "low", "info"}))
	}
	if g.chance(3) {
		g.line(1, "scope:")
		if g.chance(2) {
			g.line(2, "namespaces: %s", qlist(some(g.r, nsGlobs, 3)))
		}
		g.line(2, "excludeNamespaces: %s", qlist(some(g.r, nsGlobs, 2)))
	}
	g.line(1, "articles:")
	n := 1 + g.r.IntN(6)
	for i := range n {
		g.article(i, n)
	}
	if len(g.params) > 0 {
		g.line(1, "parameters:")
		for _, p := range g.params {
			g.line(1, "- %s", p)
		}
	}
	return g.b.String()
}

// article is one declarative article (rarely a raw Rego one).
type article struct {
	pods  bool   // may read the pod
	each  string // the foreach name, "" without foreach
	shape shape  // the foreach element's shape
}

func (g *charterGen) article(i, n int) {
	a := article{pods: g.chance(2)}
	g.line(1, "- id: G-%d", i)
	g.line(2, "title: %s", q(fmt.Sprintf("generated article %d", i)))
	if g.chance(2) {
		g.line(2, "action: %s", pick(g.r, []string{"deny", "warn", "audit"}))
	}
	if g.chance(3) {
		g.line(2, "severity: %s", pick(g.r, []string{"critical", "high", "medium", "low", "info"}))
	}
	if n > 1 && g.chance(8) {
		other := g.r.IntN(n)
		if other != i {
			g.line(2, "overrides: [G-%d]", other)
		}
	}
	g.match(a.pods)
	g.foreach(&a)
	if g.chance(25) {
		// The raw Rego hatch: OPA decides it on both paths; the native path
		// must still merge its findings in order.
		g.line(2, "rego: |")
		g.line(3, "%s", pick(g.r, []string{`resource.metadata.name == "web"`, `startswith(object.get(resource, "kind", ""), "S")`, `input.request.operation == "UPDATE"`}))
	} else {
		g.line(2, "violation:")
		g.condition(3, &a, 0)
	}
	g.line(2, "message: %s", q(g.message(&a)))
}

func (g *charterGen) match(pods bool) {
	var kinds []string
	switch {
	case g.chance(6):
		kinds = []string{"*"}
	case pods:
		kinds = some(g.r, podKinds, 3)
	default:
		kinds = some(g.r, append(append([]string{}, podKinds...), otherKinds...), 3)
	}
	g.line(2, "match:")
	g.line(3, "kinds: %s", qlist(kinds))
	switch g.r.IntN(4) {
	case 0:
		g.line(3, "operations: %s", qlist(some(g.r, operations, 3)))
	case 1:
		g.line(3, `operations: ["*"]`)
	}
	if g.chance(4) {
		g.line(3, "namespaces: %s", qlist(some(g.r, nsGlobs, 2)))
	}
	if g.chance(4) {
		g.line(3, "excludeNamespaces: %s", qlist(some(g.r, nsGlobs, 2)))
	}
	if g.chance(3) {
		g.line(3, "labelSelector:")
		if g.chance(2) {
			g.line(4, "matchLabels: {%s: %s}", q(pick(g.r, labelKeys)), q(pick(g.r, labelVals)))
		}
		g.line(4, "matchExpressions:")
		for range 1 + g.r.IntN(3) {
			op := pick(g.r, []string{"In", "NotIn", "Exists", "DoesNotExist"})
			if op == "In" || op == "NotIn" {
				g.line(4, "- {key: %s, operator: %s, values: %s}", q(pick(g.r, labelKeys)), op, qlist(some(g.r, labelVals, 3)))
			} else {
				g.line(4, "- {key: %s, operator: %s}", q(pick(g.r, labelKeys)), op)
			}
		}
	}
}

func (g *charterGen) foreach(a *article) {
	as := pick(g.r, []string{"", "el", "c", "item2", "x_1"})
	switch g.r.IntN(5) {
	case 0: // none
	case 1:
		if !a.pods {
			return
		}
		over := pick(g.r, []string{"containers", "volumes"})
		a.each, a.shape = strings.TrimSuffix(over, "s"), containerShape
		if over == "volumes" {
			a.shape = volumeShape
		}
		if as == "" {
			g.line(2, "foreach: %s", over)
			return
		}
		a.each = as
		g.line(2, "foreach: {path: %s, as: %s}", over, as)
	default:
		f := pick(g.r, foreachPaths)
		if f.pod && !a.pods {
			return
		}
		a.shape = f.shape
		path := f.path
		if g.chance(3) && !strings.HasSuffix(path, "]") {
			path += "[*]"
		}
		if as == "" {
			a.each = "item"
			g.line(2, "foreach: %s", q(path))
			return
		}
		a.each = as
		g.line(2, "foreach: {path: %s, as: %s}", q(path), as)
	}
}

// path picks a root the article has and a path below it; single paths (for
// message placeholders) have no wildcards.
func (g *charterGen) path(a *article, single bool) string {
	for {
		var root string
		var sh shape
		switch r := g.r.IntN(10); {
		case r < 4 && a.each != "":
			root, sh = a.each, a.shape
		case r < 6 && a.pods:
			root, sh = "pod", podShape
		case r < 8:
			root, sh = "object", objectShape
			if g.chance(4) {
				root = "oldObject"
			}
		default:
			root, sh = "request", requestShape
		}
		p := root + pick(g.r, sh)
		if !single {
			switch g.r.IntN(12) {
			case 0:
				p += "[*]"
			case 1:
				p += "[0]"
			case 2:
				p += `["x*"]`
			}
		}
		if single && strings.ContainsAny(p, "*?") {
			continue
		}
		return p
	}
}

var ops = []string{"equals", "notEquals", "in", "notIn", "exists", "absent", "matches", "notMatches",
	"glob", "notGlob", "prefix", "notPrefix", "suffix", "notSuffix", "contains", "notContains",
	"lt", "lte", "gt", "gte", "changed", "removed", "added"}

func (g *charterGen) condition(indent int, a *article, depth int) {
	form := g.r.IntN(6)
	if depth >= 3 {
		form = 5
	}
	if g.chance(12) {
		g.cluster(indent, a)
		return
	}
	switch form {
	case 0, 1:
		key := "any"
		if form == 1 {
			key = "all"
		}
		g.line(indent, "%s:", key)
		for range 1 + g.r.IntN(3) {
			g.line(indent, "-")
			g.condition(indent+1, a, depth+1)
		}
	case 2:
		g.line(indent, "not:")
		g.condition(indent+1, a, depth+1)
	default:
		g.leaf(indent, a)
	}
}

func (g *charterGen) leaf(indent int, a *article) {
	op := pick(g.r, ops)
	path := g.path(a, false)
	pool := fieldValues[lastField(path)]
	if len(pool) == 0 || g.chance(4) {
		pool = nil
	}
	var value string
	switch op {
	case "exists", "absent":
		g.line(indent, "{path: %s, op: %s}", q(path), op)
		return
	case "changed", "removed", "added":
		// The update operators read a path from object in both objects.
		g.line(indent, "{path: %s, op: %s}", q("object"+pick(g.r, objectShape)+pick(g.r, []string{"", "", "[*]"})), op)
		return
	case "in", "notIn":
		if g.chance(3) {
			// A join: the operand is every value another path reaches.
			g.line(indent, "{path: %s, op: %s, valuesFrom: %s}", q(path), op, q(g.path(a, false)))
			return
		}
		items := make([]string, 1+g.r.IntN(3))
		for i := range items {
			items[i] = g.operand(pool)
		}
		value = "[" + strings.Join(items, ", ") + "]"
	case "equals", "notEquals":
		value = g.operand(pool)
	case "matches", "notMatches":
		value = q(pick(g.r, regexes))
		if s, ok := g.poolString(pool); ok {
			re := regexp.QuoteMeta(g.part(s))
			if g.chance(2) {
				re = "^" + re
			}
			value = q(re)
		}
	case "glob", "notGlob":
		value = q(pick(g.r, globs))
		if s, ok := g.poolString(pool); ok {
			value = q(g.globOf(s))
		}
	case "lt", "lte", "gt", "gte":
		value = g.number(pool)
	default:
		value = q(pick(g.r, strs))
		if s, ok := g.poolString(pool); ok {
			value = q(g.part(s))
		}
	}
	if typ := paramType(op); typ != "" && g.chance(5) {
		// The operand as a parameter's default: bound when the charter loads.
		name := fmt.Sprintf("p%d", len(g.params))
		g.params = append(g.params, fmt.Sprintf("{name: %s, type: %s, default: %s}", name, typ, value))
		g.paramNames = append(g.paramNames, name)
		g.line(indent, "{path: %s, op: %s, param: %s}", q(path), op, name)
		return
	}
	g.line(indent, "{path: %s, op: %s, value: %s}", q(path), op, value)
}

// paramType is the parameter type an operator's operand has ("" for
// equals and notEquals, whose operand may be any value).
func paramType(op string) string {
	switch op {
	case "in", "notIn":
		return "list"
	case "lt", "lte", "gt", "gte":
		return "quantity"
	case "equals", "notEquals":
		return ""
	}
	return "string"
}

// lastField is the name of the last field step of a path ("" for none).
func lastField(path string) string {
	p := strings.TrimRight(path, "]*[0123456789")
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[i+1:]
	}
	return p
}

// operand renders a value from the field's pool, or any JSON value.
func (g *charterGen) operand(pool []any) string {
	if len(pool) == 0 {
		return g.anyValue()
	}
	b, _ := json.Marshal(pick(g.r, pool))
	return string(b)
}

func (g *charterGen) poolString(pool []any) (string, bool) {
	if len(pool) == 0 {
		return "", false
	}
	s, ok := pick(g.r, pool).(string)
	return s, ok
}

// part is a random prefix, suffix or inner piece of s, or s.
func (g *charterGen) part(s string) string {
	if s == "" || g.chance(3) {
		return s
	}
	i, j := g.r.IntN(len(s)), g.r.IntN(len(s)+1)
	if i > j {
		i, j = j, i
	}
	switch g.r.IntN(3) {
	case 0:
		return s[:j]
	case 1:
		return s[i:]
	}
	return s[i:j]
}

// globOf turns s into a glob that matches it (a run replaced by *, a
// character by ?), with glob metacharacters escaped.
func (g *charterGen) globOf(s string) string {
	var b strings.Builder
	star := -1
	if len(s) > 0 {
		star = g.r.IntN(len(s))
	}
	for i, c := range s {
		switch {
		case i == star && g.chance(2):
			b.WriteByte('*')
		case i == star:
			b.WriteByte('?')
		case strings.ContainsRune(`*?[]{}\!,`, c):
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// number is an operand of lt, lte, gt and gte: from the pool when it holds
// numbers or quantities, else any number or quantity.
func (g *charterGen) number(pool []any) string {
	if len(pool) > 0 {
		switch v := pick(g.r, pool).(type) {
		case int:
			return fmt.Sprint(v)
		case string:
			if slices.Contains(quantities, v) {
				return q(v)
			}
		}
	}
	if g.chance(2) {
		return pick(g.r, numbers)
	}
	return q(pick(g.r, quantities))
}

// anyValue is an operand for equals and in: any JSON value.
func (g *charterGen) anyValue() string {
	switch g.r.IntN(10) {
	case 0:
		return pick(g.r, numbers)
	case 1:
		return pick(g.r, []string{"true", "false"})
	case 2:
		return pick(g.r, []string{"null", "[]", "{}", `["SYS_ADMIN"]`, `{"a": "b"}`, "[1, 2]"})
	}
	return q(pick(g.r, strs))
}

func (g *charterGen) message(a *article) string {
	var b strings.Builder
	for range 1 + g.r.IntN(4) {
		switch g.r.IntN(7) {
		case 0:
			b.WriteString("{{value}}")
		case 1:
			b.WriteString("{{values}}")
		case 2:
			b.WriteString("{{ field }}")
		case 3, 4:
			if len(g.params) > 0 && g.chance(4) {
				b.WriteString("{{params." + pick(g.r, g.paramNames) + "}}")
				continue
			}
			b.WriteString("{{" + g.path(a, true) + "}}")
		default:
			b.WriteString(pick(g.r, []string{"x", " is ", ": ", "ü ", "{ ", "}", "%d", `"q"`, "\\n", " -- "}))
		}
	}
	return b.String()
}

// cluster is a cluster query over the objects Cluster generates.
func (g *charterGen) cluster(indent int, a *article) {
	g.line(indent, "cluster:")
	g.line(indent+1, "kind: %s", q(pick(g.r, append(append([]string{}, podKinds...), otherKinds...))))
	if g.chance(2) {
		g.line(indent+1, "sameNamespace: %v", g.chance(2))
	}
	if g.chance(3) {
		g.line(indent+1, "name: %s", q(pick(g.r, []string{"object.metadata.name", "request.namespace", "object.spec.rules[*].host", "object.metadata.labels.tier"})))
	}
	if g.chance(2) {
		g.line(indent+1, "where:")
		for range 1 + g.r.IntN(2) {
			switch g.r.IntN(3) {
			case 0:
				g.line(indent+1, "- {path: %s, op: in, valuesFrom: %s}", q("other"+pick(g.r, objectShape)), q(g.path(a, false)))
			case 1:
				g.line(indent+1, "- {path: %s, op: exists}", q("other"+pick(g.r, objectShape)))
			default:
				g.line(indent+1, "- {path: %s, op: equals, value: %s}", q("other"+pick(g.r, objectShape)), g.anyValue())
			}
		}
	}
	if g.chance(3) {
		root := "object"
		if a.pods {
			root = pick(g.r, []string{"object", "pod"})
		}
		g.line(indent+1, "selects: %s", q(root+".metadata.labels"))
	}
	g.line(indent, "op: %s", pick(g.r, []string{"exists", "absent"}))
}

// Cluster returns random objects of the cluster, for the data of cluster
// queries: objects of the inputs' vocabulary, some with a spec.selector.
func Cluster(r *rand.Rand) []map[string]any {
	g := &objectGen{r: r}
	var out []map[string]any
	for range r.IntN(8) {
		obj := g.object(nil)
		if g.chance(2) {
			spec, _ := obj["spec"].(map[string]any)
			if spec == nil {
				spec = map[string]any{}
				obj["spec"] = spec
			}
			spec["selector"] = map[string]any{"matchLabels": map[string]any{pick(r, labelKeys): pick(r, labelVals)}}
		}
		out = append(out, obj)
	}
	return out
}
