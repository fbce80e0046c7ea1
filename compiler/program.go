package compiler

import (
	"fmt"

	"github.com/charter-dev/charter/charter"
)

// ProgramVersion changes whenever the program's meaning changes; an engine
// that does not know a bundle's version evaluates it with OPA alone.
const ProgramVersion = 1

// Program is the declarative part of a compiled charter in a form the engine
// evaluates natively (data.charter.program). It decides exactly as the
// generated Rego does; a differential test holds the two together.
type Program struct {
	Version  int              `json:"version"`
	Scope    ScopeInfo        `json:"scope"`
	Articles []ProgramArticle `json:"articles"`
}

// ProgramArticle is one article with Rego, declarative or not.
type ProgramArticle struct {
	ID         string                 `json:"id"`
	Title      string                 `json:"title"`
	Action     string                 `json:"action"`
	Severity   string                 `json:"severity"`
	Kinds      []string               `json:"kinds"`
	CoversPods bool                   `json:"coversPods,omitempty"`
	CheckKind  bool                   `json:"checkKind,omitempty"`
	Pods       bool                   `json:"pods,omitempty"` // walks lib.pods
	Operations []string               `json:"operations,omitempty"`
	AnyOp      bool                   `json:"anyOperation,omitempty"`
	Namespaces []string               `json:"namespaces,omitempty"`
	Exclude    []string               `json:"excludeNamespaces,omitempty"`
	Labels     *charter.LabelSelector `json:"labelSelector,omitempty"`
	Foreach    string                 `json:"foreach,omitempty"` // containers, volumes, path
	Each       *ProgramPath           `json:"each,omitempty"`    // foreach path
	Violation  *ProgramCondition      `json:"violation,omitempty"`
	Hatch      bool                   `json:"hatch,omitempty"` // a rego: body, evaluated by OPA
	Package    string                 `json:"package"`
	Message    []ProgramPart          `json:"message"`
}

// ProgramCondition is a violation node: Any, All, Not or Leaf.
type ProgramCondition struct {
	Any  []*ProgramCondition `json:"any,omitempty"`
	All  []*ProgramCondition `json:"all,omitempty"`
	Not  *ProgramCondition   `json:"not,omitempty"`
	Leaf *ProgramLeaf        `json:"leaf,omitempty"`
}

// ProgramLeaf is path-op-value; Number is the compiled operand of lt, lte,
// gt and gte, exactly as the Rego compares it.
type ProgramLeaf struct {
	Path   ProgramPath `json:"path"`
	Op     string      `json:"op"`
	Value  any         `json:"value,omitempty"`
	Number string      `json:"number,omitempty"`
	Static string      `json:"static,omitempty"` // absent: the path up to the first wildcard, as its witness prints it
}

// ProgramPath is a path from a root: object, pod, el (the foreach element) or request.
type ProgramPath struct {
	Root string        `json:"root"`
	Segs []ProgramStep `json:"segs,omitempty"`
}

// ProgramStep is one step; Text is how a field or index step prints in a
// finding's path.
type ProgramStep struct {
	Kind  charter.SegKind `json:"kind"`
	Name  string          `json:"name,omitempty"`
	Index int             `json:"index,omitempty"`
	Text  string          `json:"text,omitempty"`
}

// ProgramPart is message text, a path placeholder, or a witness name.
type ProgramPart struct {
	Text    string       `json:"text,omitempty"`
	Ref     *ProgramPath `json:"ref,omitempty"`
	Witness string       `json:"witness,omitempty"` // value, values, field
}

func program(c *charter.Charter) *Program {
	p := &Program{Version: ProgramVersion, Scope: ScopeInfo{Namespaces: c.Spec.Scope.Namespaces, ExcludeNamespaces: c.Spec.Scope.ExcludeNamespaces}}
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
		pa := ProgramArticle{
			ID: a.ID, Title: a.Title, Action: a.Action, Severity: a.Severity, Package: "charter.articles." + packageName(a.ID),
			Kinds: m.Kinds, CoversPods: m.CoversPods(), CheckKind: checkKind, Pods: pods,
			Namespaces: m.Namespaces, Exclude: m.ExcludeNamespaces, Labels: m.LabelSelector,
			Hatch: a.Violation == nil,
		}
		switch ops := m.Operations; {
		case len(ops) == 0:
			pa.Operations = []string{"CREATE", "UPDATE"}
		case contains(ops, "*"):
			pa.AnyOp = true
		default:
			pa.Operations = ops
		}
		if f := a.Foreach; f != nil {
			pa.Foreach = f.Over
			if f.Path != nil {
				pa.Foreach = "path"
				pa.Each = g.r.programPath(f.Path)
			}
		}
		if a.Violation != nil {
			pa.Violation = g.r.programCondition(a.Violation)
		}
		for _, part := range a.Message.Parts {
			switch {
			case part.Path == nil:
				pa.Message = append(pa.Message, ProgramPart{Text: part.Text})
			case witnessName(part.Path.Root):
				pa.Message = append(pa.Message, ProgramPart{Witness: part.Path.Root})
			default:
				pa.Message = append(pa.Message, ProgramPart{Ref: g.r.programPath(part.Path)})
			}
		}
		p.Articles = append(p.Articles, pa)
	}
	return p
}

func witnessName(s string) bool { return s == "value" || s == "values" || s == "field" }

func (r roots) programPath(p *charter.Path) *ProgramPath {
	out := &ProgramPath{Root: p.Root}
	if p.Root == r.foreach && r.foreach != "" {
		out.Root = "el"
	}
	for _, s := range p.Segs {
		st := ProgramStep{Kind: s.Kind, Name: s.Name, Index: s.Index}
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
		out.Segs = append(out.Segs, st)
	}
	return out
}

func (r roots) programCondition(c *charter.Condition) *ProgramCondition {
	out := &ProgramCondition{}
	switch {
	case c.Leaf != nil:
		l := &ProgramLeaf{Path: *r.programPath(c.Leaf.Path), Op: c.Leaf.Op, Value: c.Leaf.Value}
		if l.Op == "absent" {
			l.Static = staticRest(c.Leaf.Path)
		}
		switch l.Op {
		case "lt", "lte", "gt", "gte":
			l.Number = number(c.Leaf.Value)
			l.Value = nil
		}
		out.Leaf = l
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
