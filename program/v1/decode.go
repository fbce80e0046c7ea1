package v1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/charter-dev/charter/podtemplate"
	"slices"
)

// Decode reads a program: its version first, then, for version 1, the whole
// document strictly (unknown fields are errors) and checks every enum.
// Numbers stay json.Number, so operands keep their exact text.
func Decode(data []byte) (*Program, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("decode program: %w", err)
	}
	if head.Version == nil {
		return nil, errors.New("decode program: it has no version")
	}
	if *head.Version != Version {
		return nil, fmt.Errorf("program version %d is not supported (this engine reads version %d): build the bundle with a charter release that matches the engine", *head.Version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var p Program
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode program version %d: %w", Version, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks the version and that every enum holds a known value.
func (p *Program) Validate() error {
	if p.Version != Version {
		return fmt.Errorf("program version %d is not supported (this engine reads version %d)", p.Version, Version)
	}
	if _, err := podtemplate.FromList(p.PodTemplates); err != nil {
		return fmt.Errorf("program: %w", err)
	}
	for i := range p.Articles {
		if err := p.Articles[i].validate(); err != nil {
			return fmt.Errorf("program article %q: %w", p.Articles[i].ID, err)
		}
	}
	return nil
}

func (a *Article) validate() error {
	if !slices.Contains([]Action{ActionDeny, ActionWarn, ActionAudit}, a.Action) {
		return fmt.Errorf("unknown action %q", a.Action)
	}
	if s := a.LabelSelector; s != nil {
		for _, r := range s.MatchExpressions {
			if !slices.Contains([]SelectorOperator{SelectorIn, SelectorNotIn, SelectorExists, SelectorDoesNotExist}, r.Operator) {
				return fmt.Errorf("unknown label selector operator %q", r.Operator)
			}
		}
	}
	switch a.Foreach {
	case ForeachNone, ForeachContainers, ForeachVolumes:
		if a.Each != nil {
			return fmt.Errorf("foreach %q with a path", a.Foreach)
		}
	case ForeachPath:
		if a.Each == nil {
			return errors.New("foreach path without a path")
		}
		if err := a.Each.validate(false); err != nil {
			return fmt.Errorf("foreach: %w", err)
		}
	default:
		return fmt.Errorf("unknown foreach %q", a.Foreach)
	}
	if a.Hatch != (a.Violation == nil) {
		return errors.New("an article has exactly one of a violation and a hatch")
	}
	if a.Violation != nil {
		if err := a.Violation.validate(); err != nil {
			return err
		}
	}
	for _, m := range a.Message {
		switch {
		case m.Ref != nil:
			if err := m.Ref.validate(true); err != nil {
				return fmt.Errorf("message: %w", err)
			}
		case m.Witness != "":
			if !slices.Contains([]Witness{WitnessValue, WitnessValues, WitnessField}, m.Witness) {
				return fmt.Errorf("message: unknown witness %q", m.Witness)
			}
		}
	}
	return nil
}

func (c *Condition) validate() error {
	forms := 0
	for _, has := range []bool{len(c.Any) > 0, len(c.All) > 0, c.Not != nil, c.Leaf != nil, c.Cluster != nil} {
		if has {
			forms++
		}
	}
	if forms != 1 {
		return fmt.Errorf("a condition has exactly one of any, all, not and leaf (found %d)", forms)
	}
	for _, k := range append(append([]*Condition{}, c.Any...), c.All...) {
		if k == nil {
			return errors.New("null condition")
		}
		if err := k.validate(); err != nil {
			return err
		}
	}
	if c.Not != nil {
		return c.Not.validate()
	}
	if q := c.Cluster; q != nil {
		if q.Kind == "" || (q.Op != OpExists && q.Op != OpAbsent) {
			return fmt.Errorf("a cluster query needs a kind and the operator exists or absent (kind %q, op %q)", q.Kind, q.Op)
		}
		for _, p := range []*Path{q.Name, q.Selects} {
			if p != nil {
				if err := p.validate(false); err != nil {
					return fmt.Errorf("cluster: %w", err)
				}
			}
		}
		for _, l := range q.Where {
			if l == nil || l.Path.Root != RootOther {
				return errors.New("cluster: a where leaf reads the candidate (root other)")
			}
			if err := (&Condition{Leaf: l}).validate(); err != nil {
				return fmt.Errorf("cluster: %w", err)
			}
		}
		return nil
	}
	if l := c.Leaf; l != nil {
		if !slices.Contains(Operators, l.Op) {
			return fmt.Errorf("unknown operator %q", l.Op)
		}
		if l.ValuesFrom != nil {
			if l.Op != OpIn && l.Op != OpNotIn {
				return fmt.Errorf("operator %s with valuesFrom (only in and notIn take it)", l.Op)
			}
			if err := l.ValuesFrom.validate(false); err != nil {
				return fmt.Errorf("valuesFrom: %w", err)
			}
			return l.Path.validate(false)
		}
		switch l.Op {
		case OpChanged, OpRemoved, OpAdded:
			if l.Path.Root != RootObject {
				return fmt.Errorf("operator %s on a path from %s (it compares object with oldObject)", l.Op, l.Path.Root)
			}
		case OpLt, OpLte, OpGt, OpGte:
			if _, err := json.Number(l.Number).Float64(); err != nil {
				return fmt.Errorf("operator %s: operand %q is not a number", l.Op, l.Number)
			}
		case OpIn, OpNotIn:
			if _, ok := l.Value.([]any); !ok {
				return fmt.Errorf("operator %s without a list", l.Op)
			}
		case OpExists, OpAbsent, OpEquals, OpNotEquals:
		default:
			if _, ok := l.Value.(string); !ok {
				return fmt.Errorf("operator %s without a string operand", l.Op)
			}
		}
		return l.Path.validate(false)
	}
	return nil
}

// validate checks a path's root and steps; a message placeholder (single)
// reaches one value, so it has no wildcards.
func (p *Path) validate(single bool) error {
	if !slices.Contains([]Root{RootObject, RootPod, RootElement, RootRequest, RootOldObject, RootOther}, p.Root) {
		return fmt.Errorf("unknown path root %q", p.Root)
	}
	for _, s := range p.Steps {
		switch s.Kind {
		case StepField, StepIndex:
		case StepAll, StepGlob:
			if single {
				return fmt.Errorf("a wildcard step %q in a single-valued path", s.Kind)
			}
		default:
			return fmt.Errorf("unknown path step %q", s.Kind)
		}
	}
	return nil
}
