package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Verdict is what one article did with one input.
type Verdict string

// Verdicts.
const (
	Fired   Verdict = "fired" // the article applies and found something
	Passed  Verdict = "pass"  // the article applies and found nothing
	Skipped Verdict = "skip"  // the article does not apply to the input
)

// Explanation says, for each article, why it fired or did not on one input.
type Explanation struct {
	Articles []ArticleExplanation `json:"articles"`
}

// Applies reports whether some article applies to the input: an input no
// article applies to is skipped, not passed.
func (x Explanation) Applies() bool {
	for _, a := range x.Articles {
		if a.Verdict != Skipped {
			return true
		}
	}
	return false
}

// ArticleExplanation is one article's verdict on one input and why.
type ArticleExplanation struct {
	Article string  `json:"article"`
	Title   string  `json:"title"`
	Action  string  `json:"action"`
	Verdict Verdict `json:"verdict"`
	// Reason is, for a skip, the first match check that failed; else what
	// the input matched on.
	Reason string `json:"reason"`
	// Checks are the elements the violation was decided on (the object, each
	// pod, each foreach element), with the trace of the condition.
	Checks   []Check   `json:"checks,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
}

// Check is the violation decided on one element.
type Check struct {
	At    string   `json:"at"` // the element's path in the object ("" for the object itself)
	Holds bool     `json:"holds"`
	Trace []string `json:"trace"` // one line per condition node, indented by depth
}

// Explain says why each article fired or did not on input (a Kubernetes
// object or an AdmissionReview), by the rules the decision follows: a
// fired article has exactly the findings Decide gives it. Raw Rego
// articles are decided by OPA and carry no condition trace.
func (e *Engine) Explain(ctx context.Context, input any) (Explanation, error) {
	if e.native == nil {
		return Explanation{}, errors.New("explain needs the bundle's program (data.charter.program); this bundle was built without one")
	}
	v, err := ast.InterfaceToValue(input)
	if err != nil {
		return Explanation{}, fmt.Errorf("convert input: %w", err)
	}
	x, needHatch := e.native.explain(v)
	if !needHatch {
		return x, nil
	}
	rs, err := e.hatch.Eval(ctx, rego.EvalParsedInput(v), rego.EvalTime(e.clock()))
	if err != nil {
		return Explanation{}, fmt.Errorf("evaluate: %w", err)
	}
	var hatch []Finding
	if len(rs) == 1 && len(rs[0].Expressions) == 1 {
		if hatch, err = findings(rs[0].Expressions[0].Value); err != nil {
			return Explanation{}, err
		}
	}
	for i := range x.Articles {
		a := &x.Articles[i]
		if a.Verdict == Skipped || !e.native.articles[i].Hatch {
			continue
		}
		for _, f := range hatch {
			if f.Article == a.Article {
				a.Findings = append(a.Findings, f)
			}
		}
		if len(a.Findings) > 0 {
			a.Verdict = Fired
		}
	}
	return x, nil
}

// explain is the pure part of Explain: every declarative article decided
// natively, and whether a raw Rego article applies (then OPA decides it).
func (n *native) explain(input ast.Value) (Explanation, bool) {
	x := Explanation{Articles: make([]ArticleExplanation, 0, len(n.articles))}
	e, ok := n.env(input)
	needHatch := false
	for _, a := range n.articles {
		ax := ArticleExplanation{Article: a.ID, Title: a.Title, Action: string(a.Action), Verdict: Skipped}
		switch {
		case !ok:
			ax.Reason = "the input has no object (an AdmissionReview without object or oldObject)"
		default:
			ax.Reason = a.skipReason(n, e)
		}
		if ax.Reason != "" {
			x.Articles = append(x.Articles, ax)
			continue
		}
		ax.Verdict, ax.Reason = Passed, a.matchedOn(e)
		if a.Hatch {
			needHatch = true
			ax.Reason += "; raw Rego, decided by OPA (no condition trace)"
			x.Articles = append(x.Articles, ax)
			continue
		}
		set := ast.NewSet()
		for _, s := range a.scopes(e) {
			a.finding(s, set)
			ck := Check{At: s.at(), Holds: a.cond.holds(s)}
			a.cond.trace(s, 0, &ck.Trace)
			ax.Checks = append(ax.Checks, ck)
		}
		if len(ax.Checks) == 0 {
			ax.Reason += "; " + a.nothingToCheck()
		}
		if fs, err := findingsOf(set); err == nil && len(fs) > 0 {
			ax.Verdict, ax.Findings = Fired, fs
		}
		x.Articles = append(x.Articles, ax)
	}
	return x, needHatch
}

// scopes are the elements the article's violation is decided on, as
// findings walks them.
func (a *nativeArticle) scopes(e *env) []scope {
	var out []scope
	a.eachScope(e, func(s scope) { out = append(out, s) })
	return out
}

func (s scope) at() string {
	switch {
	case s.el != nil:
		return s.el.path
	case s.pod != nil:
		return s.pod.path
	}
	return ""
}

func (a *nativeArticle) nothingToCheck() string {
	switch {
	case a.Foreach == "containers":
		return "no containers: nothing to check"
	case a.Foreach == "volumes":
		return "no volumes: nothing to check"
	}
	return "the foreach path reaches no element: nothing to check"
}

func findingsOf(set ast.Set) ([]Finding, error) {
	v, err := ast.JSON(set)
	if err != nil {
		return nil, err
	}
	return findings(v)
}

// skipReason is why matches is false ("" when it is true), check by check
// in the order matches makes them.
func (a *nativeArticle) skipReason(n *native, e *env) string {
	ns := show(e.namespace)
	if !e.inScope {
		if len(n.scope.Namespaces) > 0 && !namespaceMatches(n.scope.Namespaces, e.namespace) {
			return fmt.Sprintf("namespace %q is outside the charter's scope (namespaces: %s)", ns, strings.Join(n.scope.Namespaces, ", "))
		}
		return fmt.Sprintf("namespace %q is excluded by the charter's scope (excludeNamespaces: %s)", ns, strings.Join(n.scope.ExcludeNamespaces, ", "))
	}
	if !a.CheckKind && a.Pods && len(e.pods) == 0 {
		// Decided once per pod: an object without one is not looked at.
		return fmt.Sprintf("kind %s is not matched (match.kinds: %s): it embeds no pod", kindName(e.kind), strings.Join(a.Kinds, ", "))
	}
	if a.CheckKind && !kindMatches(a.Kinds, a.CoversPods, e) {
		extra := ""
		if a.CoversPods {
			extra = " and it embeds no pod template"
		}
		return fmt.Sprintf("kind %s is not matched (match.kinds: %s)%s", kindName(e.kind), strings.Join(a.Kinds, ", "), extra)
	}
	if !a.AnyOperation && (e.operation == nil || !a.ops.Contains(ast.NewTerm(e.operation))) {
		op := "<none>"
		if e.operation != nil {
			op = show(e.operation)
		}
		return fmt.Sprintf("operation %s is not matched (match.operations: %s)", op, strings.Join(a.Operations, ", "))
	}
	if len(a.Namespaces) > 0 && !namespaceMatches(a.Namespaces, e.namespace) {
		return fmt.Sprintf("namespace %q is not matched (match.namespaces: %s)", ns, strings.Join(a.Namespaces, ", "))
	}
	if len(a.ExcludeNamespaces) > 0 && namespaceMatches(a.ExcludeNamespaces, e.namespace) {
		return fmt.Sprintf("namespace %q is excluded (match.excludeNamespaces: %s)", ns, strings.Join(a.ExcludeNamespaces, ", "))
	}
	if a.LabelSelector != nil {
		only := *a
		only.CheckKind, only.AnyOperation, only.Namespaces, only.ExcludeNamespaces = false, true, nil, nil
		inScope := *e
		inScope.inScope = true
		if !only.matches(&inScope) {
			return fmt.Sprintf("labels %s do not satisfy match.labelSelector", show(e.labels))
		}
	}
	if !a.matches(e) {
		return "not matched" // every check above passed: unreachable unless matches gains a check
	}
	return ""
}

func kindName(kind string) string {
	switch kind {
	case "":
		return "<none>"
	case "\x00":
		return "<not a string>"
	}
	return kind
}

// matchedOn says what the input matched the article on.
func (a *nativeArticle) matchedOn(e *env) string {
	var parts []string
	switch {
	case a.CheckKind, e.kind == "Pod":
		parts = append(parts, "kind "+kindName(e.kind))
	case a.Pods:
		parts = append(parts, "kind "+kindName(e.kind)+" (it embeds a pod)")
	default:
		parts = append(parts, "any kind ("+kindName(e.kind)+")")
	}
	if e.operation != nil {
		parts = append(parts, "operation "+show(e.operation))
	}
	parts = append(parts, fmt.Sprintf("namespace %q", show(e.namespace)))
	return "matched " + strings.Join(parts, ", ")
}

// maxSeen bounds the values a trace line lists.
const maxSeen = 5

// trace appends the lines explaining c in s: each node with whether it
// holds, leaves with the values their path reached. Under an any that
// holds, only the branches up to the first that holds; under an all that
// fails, only those up to the first that fails: the ones that decide.
func (c *nCond) trace(s scope, depth int, out *[]string) {
	holds := c.holds(s)
	pad := strings.Repeat("  ", depth)
	switch {
	case c.cluster != nil:
		*out = append(*out, fmt.Sprintf("%s%s: cluster query %s %s over %d %s objects", pad, truth(holds), c.cluster.Op, c.cluster.Kind, len(candidates(s.e.cluster, c.cluster.Kind)), c.cluster.Kind))
	case c.leaf != nil:
		*out = append(*out, pad+truth(holds)+": "+c.describe(s))
	case c.not != nil:
		*out = append(*out, pad+truth(holds)+": not")
		c.not.trace(s, depth+1, out)
	case len(c.any) > 0:
		*out = append(*out, pad+truth(holds)+": any")
		for _, k := range c.any {
			k.trace(s, depth+1, out)
			if holds && k.holds(s) {
				break
			}
		}
	default:
		*out = append(*out, pad+truth(holds)+": all")
		for _, k := range c.all {
			k.trace(s, depth+1, out)
			if !holds && !k.holds(s) {
				break
			}
		}
	}
}

func truth(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// describe renders a leaf as written, with the values its path reached.
func (c *nCond) describe(s scope) string {
	l := c.leaf
	text := pathText(s, &l.Path) + " " + string(l.Op)
	switch {
	case l.ValuesFrom != nil:
		text += " values of " + pathText(s, l.ValuesFrom)
	case l.Op == programv1.OpChanged || l.Op == programv1.OpRemoved || l.Op == programv1.OpAdded:
		text += " (against oldObject)"
		if s.e.old == nil {
			return text + "; the request has no oldObject"
		}
	case l.Number != "":
		text += " " + l.Number
	case c.operand != nil:
		text += " " + c.operand.String()
	}
	var seen []string
	total := 0
	s.resolve(&l.Path, func(p string, v ast.Value) bool {
		total++
		if len(seen) < maxSeen {
			if p == "" {
				p = "object"
			}
			seen = append(seen, p+" = "+showValue(v))
		}
		return true
	})
	switch {
	case total == 0:
		return text + "; the path reaches nothing"
	case total > len(seen):
		seen = append(seen, fmt.Sprintf("... %d more", total-len(seen)))
	}
	return text + "; seen: " + strings.Join(seen, ", ")
}

// showValue renders a value seen in JSON, so strings are quoted and null
// is null.
func showValue(v ast.Value) string {
	if s, ok := callString(builtin.marshal, ast.NewTerm(v)); ok {
		return s
	}
	return v.String()
}

// pathText is a path as it reads in the input: the root's place in the
// object (the element's path for a foreach element) and the steps.
func pathText(s scope, p *programv1.Path) string {
	var b strings.Builder
	switch p.Root {
	case programv1.RootObject:
		b.WriteString("object")
	case programv1.RootElement:
		if s.el != nil {
			b.WriteString(s.el.path)
		} else {
			b.WriteString("element")
		}
	case programv1.RootPod:
		b.WriteString("pod")
		if s.pod != nil && s.pod.path != "" {
			b.WriteString("(" + s.pod.path + ")")
		}
	default:
		b.WriteString(string(p.Root))
	}
	for _, st := range p.Steps {
		switch st.Kind {
		case programv1.StepAll:
			b.WriteString("[*]")
		case programv1.StepGlob:
			b.WriteString(`["` + st.Name + `"]`)
		default:
			b.WriteString(st.Text)
		}
	}
	return b.String()
}
