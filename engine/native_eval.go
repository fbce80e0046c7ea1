package engine

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
)

// env is what compiler/lib.rego derives from one input.
type env struct {
	resource  ast.Value
	old       ast.Value // lib.old_object: the request's oldObject when it is an object
	cluster   ast.Value // data.charter.cluster: objects of the cluster, by kind, namespace and name
	request   ast.Value
	operation ast.Value
	namespace ast.Value // a string for any input that names one sensibly
	labels    ast.Value
	kind      string
	podKind   bool // some group's kind of this name embeds a pod
	pods      []elem
	inScope   bool
	contCache map[string][]elem
	volCache  map[string][]elem
}

// elem is a {path, value} pair: a pod, a container, a volume or a foreach element.
type elem struct {
	path  string
	value ast.Value
}

func get(v ast.Value, key string) ast.Value {
	if o, ok := v.(ast.Object); ok {
		if t := o.Get(keyTerm(key)); t != nil {
			return t.Value
		}
	}
	return nil
}

// keyTerms holds the string term of each field name the native evaluator
// looks up (the program's path steps and fixed names: a bounded set; keys
// that come from objects, such as label keys, are looked up with their own
// terms), so a lookup does not allocate one; it was two in five
// allocations of a decision.
var (
	keyTerms     sync.Map // string -> *ast.Term
	keyTermCount atomic.Int32
)

const maxKeyTerms = 4096

func keyTerm(key string) *ast.Term {
	if t, ok := keyTerms.Load(key); ok {
		return t.(*ast.Term)
	}
	t := ast.StringTerm(key)
	if keyTermCount.Load() < maxKeyTerms {
		if _, loaded := keyTerms.LoadOrStore(key, t); !loaded {
			keyTermCount.Add(1)
		}
	}
	return t
}

// getPath is object.get(v, path, nil) over objects only.
func getPath(v ast.Value, path ...string) ast.Value {
	for _, k := range path {
		if v = get(v, k); v == nil {
			return nil
		}
	}
	return v
}

func getString(v ast.Value, key string, def string) (string, bool) {
	x := get(v, key)
	if x == nil {
		return def, true
	}
	s, ok := isString(x)
	return s, ok
}

func (n *native) env(input ast.Value) (*env, bool) {
	e := &env{contCache: map[string][]elem{}, volCache: map[string][]elem{}, cluster: n.clusterNow()}
	req := get(input, "request")
	_, reqIsObj := req.(ast.Object)
	isReview := reqIsObj && ast.Compare(get(input, "kind"), ast.String("AdmissionReview")) == 0
	if isReview {
		e.request = req
		if obj, ok := get(req, "object").(ast.Object); ok {
			e.resource = obj
		} else if old := get(req, "oldObject"); old != nil {
			e.resource = old
		}
		if old, ok := get(req, "oldObject").(ast.Object); ok {
			e.old = old
		}
		e.namespace = ast.String("")
		if ns := get(req, "namespace"); ns != nil {
			e.namespace = ns
		}
	} else {
		e.resource = input
		ns := getPath(input, "metadata", "namespace")
		if ns == nil {
			ns = ast.String("")
		}
		e.namespace = ns
		e.request = ast.NewObject(
			ast.Item(ast.StringTerm("operation"), ast.StringTerm("CREATE")),
			ast.Item(ast.StringTerm("namespace"), ast.NewTerm(ns)),
			ast.Item(ast.StringTerm("object"), ast.NewTerm(input)),
		)
	}
	if e.resource == nil {
		return nil, false // lib.resource undefined: no article applies
	}
	e.operation = get(e.request, "operation")
	e.labels = getPath(e.resource, "metadata", "labels")
	if e.labels == nil {
		e.labels = ast.NewObject()
	}
	kind, ok := getString(e.resource, "kind", "")
	if !ok {
		kind = "\x00" // not a string: matches no kind
	}
	e.kind = kind
	e.podKind = n.templates.HasKind(kind)
	e.inScope = n.inScope(e)
	if apiVersion, ok := getString(e.resource, "apiVersion", ""); ok && kind != "\x00" {
		parts := strings.Split(apiVersion, "/")
		group := strings.Join(parts[:len(parts)-1], "/")
		if path, ok := n.templates.Lookup(group, kind); ok {
			if len(path) == 0 {
				e.pods = []elem{{path: "", value: e.resource}}
			} else if t, ok := getPath(e.resource, path...).(ast.Object); ok {
				e.pods = []elem{{path: strings.Join(path, "."), value: t}}
			}
		}
	}
	return e, true
}

// namespaceMatches is lib.namespace_matches: glob.match fails on a non-string.
func namespaceMatches(patterns []string, ns ast.Value) bool {
	if _, ok := isString(ns); !ok {
		return false
	}
	for _, p := range patterns {
		if holds(builtin.glob, ast.StringTerm(p), ast.NullTerm(), ast.NewTerm(ns)) {
			return true
		}
	}
	return false
}

func (n *native) inScope(e *env) bool {
	if len(n.scope.Namespaces) > 0 && !namespaceMatches(n.scope.Namespaces, e.namespace) {
		return false
	}
	return len(n.scope.ExcludeNamespaces) == 0 || !namespaceMatches(n.scope.ExcludeNamespaces, e.namespace)
}

// matches is the findings rule's head of checks, before the pods are walked.
func (a *nativeArticle) matches(e *env) bool {
	if !e.inScope {
		return false
	}
	if a.CheckKind && !kindMatches(a.Kinds, a.CoversPods, e) {
		return false
	}
	if !a.AnyOperation {
		if e.operation == nil || !a.ops.Contains(ast.NewTerm(e.operation)) {
			return false
		}
	}
	if len(a.Namespaces) > 0 && !namespaceMatches(a.Namespaces, e.namespace) {
		return false
	}
	if len(a.ExcludeNamespaces) > 0 && namespaceMatches(a.ExcludeNamespaces, e.namespace) {
		return false
	}
	if s := a.LabelSelector; s != nil {
		for k, v := range s.MatchLabels {
			if l := get(e.labels, k); l == nil || ast.Compare(l, ast.String(v)) != 0 {
				return false
			}
		}
		for _, r := range s.MatchExpressions {
			l := get(e.labels, r.Key)
			switch r.Operator {
			case "In":
				if l == nil || !stringIn(l, r.Values) {
					return false
				}
			case "NotIn":
				// object.get(lib.labels, key, null) sits outside the negation once
				// OPA rewrites the body: labels that are not an object fail it.
				if _, ok := e.labels.(ast.Object); !ok || l != nil && stringIn(l, r.Values) {
					return false
				}
			case "Exists":
				if l == nil || ast.Compare(l, ast.Boolean(false)) == 0 {
					return false
				}
			case "DoesNotExist":
				if l != nil && ast.Compare(l, ast.Boolean(false)) != 0 {
					return false
				}
			}
		}
	}
	return true
}

func stringIn(v ast.Value, list []string) bool {
	for _, s := range list {
		if ast.Compare(v, ast.String(s)) == 0 {
			return true
		}
	}
	return false
}

func kindMatches(kinds []string, coversPods bool, e *env) bool {
	for _, k := range kinds {
		if k == "*" || k == e.kind {
			return true
		}
	}
	return coversPods && e.podKind
}

// containers is lib.containers(pod): init, regular and ephemeral, with paths.
func (e *env) containers(pod elem) []elem {
	if c, ok := e.contCache[pod.path]; ok {
		return c
	}
	var out []elem
	for _, field := range []string{"initContainers", "containers", "ephemeralContainers"} {
		base := join(pod.path, "spec."+field)
		out = append(out, indexed(getPath(pod.value, "spec", field), base)...)
	}
	e.contCache[pod.path] = out
	return out
}

func (e *env) volumes(pod elem) []elem {
	if v, ok := e.volCache[pod.path]; ok {
		return v
	}
	out := indexed(getPath(pod.value, "spec", "volumes"), join(pod.path, "spec.volumes"))
	e.volCache[pod.path] = out
	return out
}

// indexed lists the elements of `some i, v in x` with sprintf("%s[%d]", [base, i])
// paths; for an object (an invalid manifest) sprintf prints the key as Go does.
func indexed(v ast.Value, base string) []elem {
	var out []elem
	each(v, func(k, x ast.Value) bool {
		var p string
		switch key := k.(type) {
		case ast.Number:
			p = base + "[" + key.String() + "]"
		case ast.String:
			p = base + "[%!d(string=" + string(key) + ")]" // what fmt prints for %d of a string
		default:
			return true
		}
		out = append(out, elem{path: p, value: x})
		return true
	})
	return out
}

// scope binds the roots of one evaluation.
type scope struct {
	e     *env
	pod   *elem
	el    *elem
	other ast.Value // a cluster query's candidate
}

func (s scope) root(name programv1.Root) (ast.Value, string, bool) {
	switch name {
	case programv1.RootObject:
		return s.e.resource, "", true
	case programv1.RootPod:
		if s.pod == nil {
			return nil, "", false
		}
		return s.pod.value, s.pod.path, true
	case programv1.RootElement:
		if s.el == nil {
			return nil, "", false
		}
		return s.el.value, s.el.path, true
	case programv1.RootRequest:
		return s.e.request, "request", true
	case programv1.RootOldObject:
		if s.e.old == nil {
			return nil, "", false
		}
		return s.e.old, "oldObject", true
	case programv1.RootOther:
		if s.other == nil {
			return nil, "", false
		}
		return s.other, "", true
	}
	return nil, "", false
}

// valueSet is every value p reaches, nulls included: the operand of a join
// and of the update operators.
func (s scope) valueSet(p *programv1.Path) ast.Set {
	out := ast.NewSet()
	s.values(p, func(v ast.Value) bool {
		out.Add(ast.NewTerm(v))
		return true
	})
	return out
}

// resolve walks a path to every value it reaches, with the path string the
// Rego witness builds. Nulls are kept; callers decide.
func (s scope) resolve(p *programv1.Path, visit func(path string, v ast.Value) bool) {
	v, base, ok := s.root(p.Root)
	if !ok || v == nil {
		return
	}
	walk(v, base, "", p.Steps, true, visit)
}

// values is resolve for callers that need no path: it walks the same
// steps to the same values without building the path strings (most
// conditions hold or not without ever naming where).
func (s scope) values(p *programv1.Path, visit func(v ast.Value) bool) {
	v, _, ok := s.root(p.Root)
	if !ok || v == nil {
		return
	}
	walk(v, "", "", p.Steps, false, func(_ string, v ast.Value) bool { return visit(v) })
}

// walk mirrors condition.go's resolve: static steps accumulate in static,
// wildcard steps flush it into the path and iterate. Unless named, no path
// string is built and visit gets "".
func walk(v ast.Value, base, static string, segs []programv1.Step, named bool, visit func(string, ast.Value) bool) bool {
	for i, st := range segs {
		switch st.Kind {
		case programv1.StepField:
			if v = get(v, st.Name); v == nil {
				return true
			}
		case programv1.StepIndex:
			arr, ok := v.(*ast.Array)
			if !ok || st.Index >= arr.Len() {
				return true
			}
			v = arr.Elem(st.Index).Value
		case programv1.StepAll, programv1.StepGlob:
			path := ""
			if named {
				path = flush(base, static)
			}
			cont := true
			each(v, func(k, x ast.Value) bool {
				if st.Kind == programv1.StepGlob {
					ks, ok := isString(k)
					if !ok || !holds(builtin.glob, ast.StringTerm(st.Name), ast.NullTerm(), ast.StringTerm(ks)) {
						return true
					}
				}
				child := ""
				if named {
					child = step(path, k)
				}
				cont = walk(x, child, "", segs[i+1:], named, visit)
				return cont
			})
			return cont
		}
		if named {
			static += st.Text
		}
	}
	if !named {
		return visit("", v)
	}
	return visit(flush(base, static), v)
}

func flush(base, static string) string {
	switch {
	case static == "":
		return base
	case strings.HasPrefix(static, "["):
		return base + static
	}
	return join(base, strings.TrimPrefix(static, "."))
}

// each is `some k, v in x` over arrays, objects and sets.
func each(x ast.Value, f func(k, v ast.Value) bool) {
	switch c := x.(type) {
	case *ast.Array:
		for i := 0; i < c.Len(); i++ {
			if !f(ast.IntNumberTerm(i).Value, c.Elem(i).Value) {
				return
			}
		}
	case ast.Object:
		for _, k := range c.Keys() {
			if !f(k.Value, c.Get(k).Value) {
				return
			}
		}
	case ast.Set:
		for _, t := range c.Slice() {
			if !f(t.Value, t.Value) {
				return
			}
		}
	}
}

// sortStrings sorts and dedupes, as a Rego set of strings iterates.
func sortStrings(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}
