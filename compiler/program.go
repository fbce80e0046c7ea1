package compiler

import (
	"fmt"

	"github.com/charter-dev/charter/charter"
	programv1 "github.com/charter-dev/charter/program/v1"
)

// Program is the declarative part of a compiled charter in a form the engine
// evaluates natively (data.charter.program). It decides exactly as the
// generated Rego does; a differential test holds the two together. Its types
// are the versioned wire format of package program/v1, translated here from
// the language's own, so a change to the language cannot silently change
// what a shipped bundle means.
type Program = programv1.Program

func program(c *charter.Charter) *Program {
	p := &Program{Version: programv1.Version, Scope: programv1.Scope{Namespaces: c.Spec.Scope.Namespaces, ExcludeNamespaces: c.Spec.Scope.ExcludeNamespaces}}
	for _, a := range c.Spec.Articles {
		if a.Violation == nil && a.Rego == "" {
			continue
		}
		g := &articleGen{a: a}
		if a.Foreach != nil {
			g.r.foreach = a.Foreach.As
		}
		m := a.Match
		pods, checkKind := g.plan()
		pa := programv1.Article{
			ID: a.ID, Title: a.Title, Action: programv1.Action(a.Action), Severity: a.Severity, Package: "charter.articles." + packageName(a.ID),
			Kinds: m.Kinds, CoversPods: m.CoversPods(), CheckKind: checkKind, Pods: pods,
			Namespaces: m.Namespaces, ExcludeNamespaces: m.ExcludeNamespaces, LabelSelector: labelSelector(m.LabelSelector),
			Hatch: a.Violation == nil,
		}
		switch ops := m.Operations; {
		case len(ops) == 0:
			pa.Operations = []string{"CREATE", "UPDATE"}
		case contains(ops, "*"):
			pa.AnyOperation = true
		default:
			pa.Operations = ops
		}
		if f := a.Foreach; f != nil {
			switch {
			case f.Path != nil:
				pa.Foreach = programv1.ForeachPath
				pa.Each = g.r.programPath(f.Path)
			case f.Over == "containers":
				pa.Foreach = programv1.ForeachContainers
			case f.Over == "volumes":
				pa.Foreach = programv1.ForeachVolumes
			default:
				panic("compiler: foreach " + f.Over + " without a path") // the parser resolves every other form to a path
			}
		}
		if a.Violation != nil {
			pa.Violation = g.r.programCondition(a.Violation)
		}
		for _, part := range a.Message.Parts {
			switch {
			case part.Path == nil:
				pa.Message = append(pa.Message, programv1.Part{Text: part.Text})
			case witnessName(part.Path.Root):
				pa.Message = append(pa.Message, programv1.Part{Witness: programv1.Witness(part.Path.Root)})
			default:
				pa.Message = append(pa.Message, programv1.Part{Ref: g.r.programPath(part.Path)})
			}
		}
		p.Articles = append(p.Articles, pa)
	}
	return p
}

func witnessName(s string) bool { return s == "value" || s == "values" || s == "field" }

func labelSelector(s *charter.LabelSelector) *programv1.LabelSelector {
	if s == nil {
		return nil
	}
	out := &programv1.LabelSelector{MatchLabels: s.MatchLabels}
	for _, r := range s.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, programv1.LabelRequirement{
			Key: r.Key, Operator: programv1.SelectorOperator(r.Operator), Values: r.Values,
		})
	}
	return out
}

var stepKinds = map[charter.SegKind]programv1.StepKind{
	charter.SegField: programv1.StepField,
	charter.SegIndex: programv1.StepIndex,
	charter.SegAll:   programv1.StepAll,
	charter.SegGlob:  programv1.StepGlob,
}

func (r roots) programPath(p *charter.Path) *programv1.Path {
	out := &programv1.Path{Root: programv1.Root(p.Root)}
	if p.Root == r.foreach && r.foreach != "" {
		out.Root = programv1.RootElement
	}
	for _, s := range p.Segs {
		kind, ok := stepKinds[s.Kind]
		if !ok {
			panic(fmt.Sprintf("compiler: path step kind %d has no program form", s.Kind))
		}
		st := programv1.Step{Kind: kind, Name: s.Name, Index: s.Index}
		switch s.Kind {
		case charter.SegField:
			if isIdent(s.Name) {
				st.Text = "." + s.Name
			} else {
				st.Text = "[" + term(s.Name) + "]"
			}
		case charter.SegIndex:
			st.Text = fmt.Sprintf("[%d]", s.Index)
		}
		out.Steps = append(out.Steps, st)
	}
	return out
}

func (r roots) programCondition(c *charter.Condition) *programv1.Condition {
	out := &programv1.Condition{}
	switch {
	case c.Leaf != nil:
		l := &programv1.Leaf{Path: *r.programPath(c.Leaf.Path), Op: programv1.Operator(c.Leaf.Op), Value: c.Leaf.Value}
		if c.Leaf.ValuesFrom != nil {
			l.ValuesFrom = r.programPath(c.Leaf.ValuesFrom)
		}
		switch l.Op {
		case programv1.OpAbsent, programv1.OpChanged:
			l.Static = staticRest(c.Leaf.Path)
		case programv1.OpLt, programv1.OpLte, programv1.OpGt, programv1.OpGte:
			l.Number = number(c.Leaf.Value)
			l.Value = nil
		}
		out.Leaf = l
	case c.Cluster != nil:
		q := c.Cluster
		pq := &programv1.ClusterQuery{Kind: q.Kind, SameNamespace: q.SameNamespace, Op: programv1.Operator(q.Op)}
		if q.Name != nil {
			pq.Name = r.programPath(q.Name)
		}
		if constantRoot(q.Name) {
			pq.Static = staticRest(q.Name)
		}
		if q.Selects != nil {
			pq.Selects = r.programPath(q.Selects)
		}
		for _, l := range q.Where {
			pq.Where = append(pq.Where, r.programCondition(&charter.Condition{Leaf: l}).Leaf)
		}
		out.Cluster = pq
	case c.Not != nil:
		out.Not = r.programCondition(c.Not)
	case len(c.Any) > 0:
		for _, s := range c.Any {
			out.Any = append(out.Any, r.programCondition(s))
		}
	default:
		for _, s := range c.All {
			out.All = append(out.All, r.programCondition(s))
		}
	}
	return out
}
