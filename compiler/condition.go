package compiler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charter-dev/charter/charter"
)

// args are the three values every generated function takes: the object, the
// pod (path+value) and the foreach element (path+value). A function names the
// ones it reads and writes _ for the others; callers pass null for those.
type args [3]bool

const (
	argObj = iota
	argPod
	argEl
)

var argNames = [3]string{"obj", "pod", "el"}

func (a args) params() string {
	out := make([]string, 3)
	for i, used := range a {
		out[i] = "_"
		if used {
			out[i] = argNames[i]
		}
	}
	return strings.Join(out, ", ")
}

// call renders the arguments for calling a function that reads callee from a
// scope that has every name in have.
func (callee args) call(have args) string {
	out := make([]string, 3)
	for i, used := range callee {
		out[i] = "null"
		if used && have[i] {
			out[i] = argNames[i]
		}
	}
	return strings.Join(out, ", ")
}

func (a args) or(b args) args {
	for i := range a {
		a[i] = a[i] || b[i]
	}
	return a
}

// roots maps a path root to the argument it reads and the Rego that reaches it.
type roots struct {
	foreach string
	other   bool // inside a cluster query: the root other is the candidate
}

func (r roots) arg(root string) (int, bool) {
	switch root {
	case "object":
		return argObj, true
	case "pod":
		return argPod, true
	case "request", "oldObject":
		return -1, true
	case "other":
		if r.other {
			return -1, true
		}
	}
	if root == r.foreach && root != "" {
		return argEl, true
	}
	return 0, false
}

// base returns the Rego value expression and path expression for a root.
func (r roots) base(root string) (value, path string) {
	switch root {
	case "object":
		return "obj", `""`
	case "pod":
		return "pod.value", "pod.path"
	case "request":
		return "lib.request", `"request"`
	case "oldObject":
		return "lib.old_object", `"oldObject"`
	case "other":
		if r.other {
			return "cand", `""`
		}
	}
	return "el.value", "el.path"
}

func (r roots) uses(p *charter.Path) args {
	var a args
	if i, ok := r.arg(p.Root); ok && i >= 0 {
		a[i] = true
	}
	return a
}

// leafUses is the arguments a leaf reads: its path, its valuesFrom path,
// and, for the update operators, the object (compared with oldObject).
func (r roots) leafUses(l *charter.Leaf) args {
	a := r.uses(l.Path)
	if l.ValuesFrom != nil {
		a = a.or(r.uses(l.ValuesFrom))
	}
	return a
}

// withRoot is p read from another root (object.x as oldObject.x).
func withRoot(p *charter.Path, root string) *charter.Path {
	out := *p
	out.Root = root
	out.Raw = ""
	return &out
}

// leafResolve walks the values a leaf tests: for removed, the old object's
// values at the path (each one missing from the new object is a witness).
func (r roots) leafResolve(l *charter.Leaf, prefix string, keys bool) resolved {
	if l.Op == "removed" {
		return r.resolve(withRoot(l.Path, "oldObject"), prefix, keys)
	}
	return r.resolve(l.Path, prefix, keys)
}

// valueSet renders the set of every value p reaches (nulls included), for a
// test inside a body whose variables start with prefix. A comprehension, so
// that a path reaching nothing is the empty set, not undefined.
func (r roots) valueSet(p *charter.Path, prefix string) string {
	res := r.resolve(p, prefix+"j", false)
	lines := res.lines
	if len(lines) == 0 {
		lines = []string{"true"}
	}
	return fmt.Sprintf("{%s | %s}", res.value, strings.Join(lines, "; "))
}

// resolved is the Rego that walks a path to each of its values.
type resolved struct {
	lines     []string // body lines binding value
	nullCheck string   // "value != null", for operators that a null would satisfy
	value     string   // variable holding each value
	path      string   // Rego expression of the value's field path
}

// resolve walks p. With keys, wildcard steps bind the key too (for witness paths).
func (r roots) resolve(p *charter.Path, prefix string, keys bool) resolved {
	cur, curPath := r.base(p.Root)
	if cur == "obj" && len(p.Segs) == 0 {
		// obj is a variable: a test of it (obj == "x" is unification once
		// compiled) would narrow its type for the whole body, and OPA's type
		// checker would then reject a sibling leaf that reads a field of it.
		// A reference to it narrows nothing.
		cur = "[obj][0]"
	}
	var static strings.Builder
	var lines []string
	flush := func() string {
		s := static.String()
		static.Reset()
		switch {
		case s == "":
			return curPath
		case curPath == `""`:
			return strconv.Quote(strings.TrimPrefix(s, "."))
		case strings.HasPrefix(s, "["):
			return fmt.Sprintf("concat(\"\", [%s, %s])", curPath, strconv.Quote(s))
		}
		return fmt.Sprintf("lib.join(%s, %s)", curPath, strconv.Quote(strings.TrimPrefix(s, ".")))
	}
	for i, s := range p.Segs {
		switch s.Kind {
		case charter.SegField:
			cur += field(s.Name)
			if isIdent(s.Name) {
				static.WriteString("." + s.Name)
			} else {
				static.WriteString("[" + term(s.Name) + "]")
			}
		case charter.SegIndex:
			cur += fmt.Sprintf("[%d]", s.Index)
			static.WriteString(fmt.Sprintf("[%d]", s.Index))
		case charter.SegAll, charter.SegGlob:
			k, v := fmt.Sprintf("%sk%d", prefix, i), fmt.Sprintf("%sv%d", prefix, i)
			needKey := keys || s.Kind == charter.SegGlob
			if needKey {
				lines = append(lines, fmt.Sprintf("some %s, %s in %s", k, v, cur))
			} else {
				lines = append(lines, fmt.Sprintf("some %s in %s", v, cur))
			}
			if s.Kind == charter.SegGlob {
				lines = append(lines, fmt.Sprintf("glob.match(%s, null, %s)", term(s.Name), k))
			}
			if keys {
				curPath = fmt.Sprintf("lib.step(%s, %s)", flush(), k)
			}
			cur = v
		}
	}
	val := cur
	if strings.ContainsAny(cur, ".[") {
		val = prefix + "v"
		lines = append(lines, fmt.Sprintf("%s := %s", val, cur))
	}
	res := resolved{lines: lines, value: val, nullCheck: fmt.Sprintf("%s != null", val)}
	if keys {
		res.path = flush()
	}
	return res
}

// body is the leaf's test over the resolved values. A null value counts as
// absent: the null check is written only where the operator alone would
// accept a null (string and number operators reject it by themselves).
func (r roots) body(res resolved, l *charter.Leaf, prefix string) []string {
	out := append([]string(nil), res.lines...)
	if nullMatters(l) {
		out = append(out, res.nullCheck)
	}
	switch {
	case l.ValuesFrom != nil && l.Op == "in":
		return append(out, fmt.Sprintf("%s in %s", res.value, r.valueSet(l.ValuesFrom, prefix)))
	case l.ValuesFrom != nil:
		return append(out, fmt.Sprintf("not %s in %s", res.value, r.valueSet(l.ValuesFrom, prefix)))
	case l.Op == "removed":
		return append(out, fmt.Sprintf("not %s in %s", res.value, r.valueSet(l.Path, prefix)))
	case l.Op == "added":
		return append(out, "is_object(lib.old_object)", fmt.Sprintf("not %s in %s", res.value, r.valueSet(withRoot(l.Path, "oldObject"), prefix)))
	}
	return append(out, test(l, res.value)...)
}

// changed is the body of a changed leaf: the request has an oldObject, and
// the path reaches other values in it than in the object.
func (r roots) changed(l *charter.Leaf, prefix string) []string {
	return []string{
		"is_object(lib.old_object)",
		fmt.Sprintf("%s != %s", r.valueSet(l.Path, prefix+"n"), r.valueSet(withRoot(l.Path, "oldObject"), prefix+"o")),
	}
}

// present is the Rego of "the path has a non-null value".
func (res resolved) present() []string {
	return append(append([]string(nil), res.lines...), res.nullCheck)
}

func nullMatters(l *charter.Leaf) bool {
	if l.ValuesFrom != nil {
		return true
	}
	switch l.Op {
	case "exists", "notEquals", "notIn", "removed", "added":
		return true
	case "equals":
		return l.Value == nil
	case "in":
		for _, v := range l.Value.([]any) {
			if v == nil {
				return true
			}
		}
	}
	return false
}

// staticPath is the path of p up to its first wildcard, for absent witnesses.
func (r roots) staticPath(p *charter.Path) string {
	_, base := r.base(p.Root)
	rest := staticRest(p)
	switch {
	case rest == "":
		return base
	case base == `""`:
		return strconv.Quote(rest)
	}
	return fmt.Sprintf("lib.join(%s, %s)", base, strconv.Quote(rest))
}

// staticRest prints p's steps up to its first wildcard, without the root.
func staticRest(p *charter.Path) string {
	cut := &charter.Path{Root: p.Root}
	for _, s := range p.Segs {
		if s.Kind == charter.SegAll || s.Kind == charter.SegGlob {
			break
		}
		cut.Segs = append(cut.Segs, s)
	}
	return strings.TrimPrefix(strings.TrimPrefix(cut.String(), cut.Root), ".")
}

// test renders the operator test on value v.
func test(l *charter.Leaf, v string) []string {
	switch l.Op {
	case "equals":
		return []string{fmt.Sprintf("%s == %s", v, term(l.Value))}
	case "notEquals":
		return []string{fmt.Sprintf("%s != %s", v, term(l.Value))}
	case "in":
		return []string{fmt.Sprintf("%s in %s", v, setTerm(l.Value.([]any)))}
	case "notIn":
		return []string{fmt.Sprintf("not %s in %s", v, setTerm(l.Value.([]any)))}
	case "exists":
		return nil
	case "matches", "glob", "prefix", "suffix", "contains":
		return []string{fmt.Sprintf("is_string(%s)", v), stringTest(l.Op, term(l.Value), v)}
	case "notMatches", "notGlob", "notPrefix", "notSuffix", "notContains":
		// A string value that fails the test; non-strings hold for neither form.
		op := strings.ToLower(l.Op[3:4]) + l.Op[4:]
		return []string{fmt.Sprintf("is_string(%s)", v), "not " + stringTest(op, term(l.Value), v)}
	case "lt", "lte", "gt", "gte":
		ops := map[string]string{"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
		return []string{fmt.Sprintf("lib.nanos(%s) %s %s # %s", v, ops[l.Op], nanos(l.Value), operandText(l.Value))}
	}
	panic("compiler: unknown operator " + l.Op) // the parser rejects unknown operators
}

// stringTest renders a string operator on value v with operand t.
func stringTest(op, t, v string) string {
	switch op {
	case "matches":
		return fmt.Sprintf("regex.match(%s, %s)", t, v)
	case "glob":
		return fmt.Sprintf("glob.match(%s, null, %s)", t, v)
	case "prefix":
		return fmt.Sprintf("startswith(%s, %s)", v, t)
	case "suffix":
		return fmt.Sprintf("endswith(%s, %s)", v, t)
	}
	return fmt.Sprintf("contains(%s, %s)", v, t)
}

// nanos renders a numeric operand as lib.nanos reads values: a whole number
// of 10^-9 units (the parser guarantees the operand is one).
func nanos(v any) string {
	n, err := charter.OperandNanos(v)
	if err != nil {
		panic(fmt.Sprintf("compiler: %v is not a number or quantity: %v", v, err))
	}
	return n.String()
}

// number renders a numeric operand as the shortest decimal of its value, for
// the program: 500m as 0.5, 1Gi as 1073741824.
func number(v any) string {
	n, err := charter.OperandNanos(v)
	if err != nil {
		panic(fmt.Sprintf("compiler: %v is not a number or quantity: %v", v, err))
	}
	return charter.NanosText(n)
}

// operandText is the operand as the charter writes it, for a comment.
func operandText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}
