package charter

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Operators a leaf may use.
var Operators = []string{
	"equals", "notEquals", "in", "notIn", "exists", "absent", "matches", "notMatches",
	"glob", "notGlob", "prefix", "notPrefix", "suffix", "notSuffix", "contains", "notContains",
	"lt", "lte", "gt", "gte", "changed", "removed", "added",
}

// updateOperators compare the object with the request's oldObject at the
// same path; they hold only when the request has an oldObject (UPDATE).
var updateOperators = map[string]bool{"changed": true, "removed": true, "added": true}

// reservedRoots are the path roots every article has; foreach adds its name.
var reservedRoots = map[string]bool{"object": true, "pod": true, "request": true, "oldObject": true, clusterOther: true}

func (d *decoder) condition(n *yaml.Node) *Condition {
	c := &Condition{Pos: d.pos(n)}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "condition must be a mapping with any, all, not, or path/op/value; not %s", kindName(n))
		return nil
	}
	has := present(n)
	forms := 0
	for _, f := range []string{"any", "all", "not", "path", "cluster"} {
		if has[f] {
			forms++
		}
	}
	if forms != 1 {
		d.errorf(n, "condition must have exactly one of any, all, not, path or cluster (found %d)", forms)
		return nil
	}
	if has["cluster"] {
		d.clusterCondition(n, c)
		return c
	}
	list := func(v *yaml.Node, what string) []*Condition {
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			d.errorf(v, "%s must be a non-empty list of conditions", what)
			return nil
		}
		var out []*Condition
		for _, e := range v.Content {
			if sub := d.condition(e); sub != nil {
				out = append(out, sub)
			}
		}
		return out
	}
	leaf := &Leaf{}
	var opNode *yaml.Node
	d.fields(n, "condition", map[string]func(*yaml.Node){
		"any": func(v *yaml.Node) { c.Any = list(v, "any") },
		"all": func(v *yaml.Node) { c.All = list(v, "all") },
		"not": func(v *yaml.Node) { c.Not = d.condition(v) },
		"path": func(v *yaml.Node) {
			p, err := ParsePath(d.str(v, "path"))
			if err != nil {
				d.fail(v, err)
				return
			}
			p.Pos = d.pos(v)
			leaf.Path = p
		},
		"op": func(v *yaml.Node) {
			opNode = v
			leaf.Op = d.oneOf(v, "operator", d.str(v, "op"), Operators...)
		},
		"value": func(v *yaml.Node) {
			leaf.Value = d.value(v)
			leaf.HasValue = true
			leaf.ValuePos = d.pos(v)
		},
		"param": func(v *yaml.Node) {
			leaf.Param = d.str(v, "param")
			leaf.ValuePos = d.pos(v)
		},
		"valuesFrom": func(v *yaml.Node) {
			p, err := ParsePath(d.str(v, "valuesFrom"))
			if err != nil {
				d.fail(v, err)
				return
			}
			p.Pos = d.pos(v)
			leaf.ValuesFrom = p
			leaf.ValuePos = d.pos(v)
		},
	})
	if !has["path"] {
		if has["op"] || has["value"] || has["valuesFrom"] {
			d.errorf(n, "op, value and valuesFrom belong to a leaf with a path")
		}
		return c
	}
	if operands := btoi(has["value"]) + btoi(has["valuesFrom"]) + btoi(has["param"]); operands > 1 {
		d.errorf(n, "value, valuesFrom and param are exclusive; use one")
		return c
	}
	if !has["op"] {
		d.errorf(n, "condition on %s is missing required field \"op\"", leaf.Path)
		return c
	}
	if leaf.Op != "" && (leaf.ValuesFrom != nil || !has["valuesFrom"]) && !has["param"] {
		if err := checkOperand(leaf); err != nil {
			at := n
			if opNode != nil {
				at = opNode
			}
			d.errorf(at, "%v", err)
		}
	}
	if leaf.Path != nil {
		c.Leaf = leaf
	}
	return c
}

// checkOperand validates a leaf's value against its operator.
func checkOperand(l *Leaf) error {
	if l.ValuesFrom != nil {
		if l.Op != "in" && l.Op != "notIn" {
			return fmt.Errorf("valuesFrom goes with operator in or notIn, not %s", l.Op)
		}
		return nil
	}
	if updateOperators[l.Op] {
		if l.HasValue {
			return fmt.Errorf("operator %s takes no value (it compares the object with the request's oldObject)", l.Op)
		}
		if l.Path != nil && l.Path.Root != "object" {
			return fmt.Errorf("operator %s compares object with oldObject: its path must start at object, not %s", l.Op, l.Path.Root)
		}
		return nil
	}
	switch l.Op {
	case "exists", "absent":
		if l.HasValue {
			return fmt.Errorf("operator %s takes no value", l.Op)
		}
		return nil
	}
	if !l.HasValue {
		return fmt.Errorf("operator %s needs a value", l.Op)
	}
	switch l.Op {
	case "in", "notIn":
		if _, ok := l.Value.([]any); !ok {
			return fmt.Errorf("operator %s needs a list value", l.Op)
		}
	case "matches", "notMatches":
		s, ok := l.Value.(string)
		if !ok {
			return fmt.Errorf("operator %s needs a string regular expression", l.Op)
		}
		if _, err := regexp.Compile(s); err != nil {
			return fmt.Errorf("bad regular expression %q: %v", s, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
	case "glob", "notGlob":
		s, ok := l.Value.(string)
		if !ok {
			return fmt.Errorf("operator %s needs a string pattern", l.Op)
		}
		if _, err := CompileGlob(s); err != nil {
			return fmt.Errorf("bad glob %q: %v", s, err)
		}
	case "prefix", "suffix", "contains", "notPrefix", "notSuffix", "notContains":
		if _, ok := l.Value.(string); !ok {
			return fmt.Errorf("operator %s needs a string value", l.Op)
		}
	case "lt", "lte", "gt", "gte":
		switch v := l.Value.(type) {
		case int64, float64:
			if _, err := OperandNanos(v); err != nil {
				return fmt.Errorf("operator %s: %v is out of range", l.Op, v)
			}
		case string:
			if _, err := OperandNanos(v); err != nil {
				return fmt.Errorf("operator %s: %q is neither a number nor a Kubernetes quantity (like 500m or 1Gi)", l.Op, v)
			}
		default:
			return fmt.Errorf("operator %s needs a number or a quantity", l.Op)
		}
	}
	return nil
}

// OperandNanos is the value of an lt, lte, gt or gte operand (a number or a
// quantity string) in nanos, as Nanos reads it.
func OperandNanos(v any) (*big.Int, error) {
	var text string
	switch x := v.(type) {
	case int64:
		text = strconv.FormatInt(x, 10)
	case float64:
		text = strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		text = x
	default:
		return nil, fmt.Errorf("%v is not a number", v)
	}
	n, err := Nanos(text)
	if err != nil {
		return nil, err
	}
	// The bundle's program carries the operand as decimal text that must
	// read as a float64 (about 1.8e308).
	if _, err := strconv.ParseFloat(NanosText(n), 64); err != nil {
		return nil, fmt.Errorf("%v is out of range", v)
	}
	return n, nil
}

// checkRoots reports paths and message placeholders whose root is unknown.
func (d *decoder) checkRoots(a *Article) {
	roots := map[string]bool{"object": true, "pod": true, "request": true, "oldObject": true}
	if a.Foreach != nil {
		roots[a.Foreach.As] = true
		if a.Foreach.Path != nil {
			d.checkRoot(a.Foreach.Path, map[string]bool{"object": true, "pod": true, "oldObject": true}, a.Foreach.Pos)
		}
	}
	var walk func(c *Condition)
	walk = func(c *Condition) {
		if c == nil {
			return
		}
		for _, s := range c.Any {
			walk(s)
		}
		for _, s := range c.All {
			walk(s)
		}
		walk(c.Not)
		if c.Leaf != nil {
			d.checkRoot(c.Leaf.Path, roots, c.Leaf.Path.Pos)
			if c.Leaf.ValuesFrom != nil {
				d.checkRoot(c.Leaf.ValuesFrom, roots, c.Leaf.ValuesFrom.Pos)
			}
		}
		if q := c.Cluster; q != nil {
			for _, p := range []*Path{q.Name, q.Selects} {
				if p != nil {
					d.checkRoot(p, roots, p.Pos)
				}
			}
			other := map[string]bool{clusterOther: true}
			for r := range roots {
				other[r] = true
			}
			for _, l := range q.Where {
				if l.Path.Root != clusterOther {
					d.errs.Add(l.Path.Pos, "path %s: a cluster.where leaf reads the candidate: its path starts at %s", l.Path.Raw, clusterOther)
				}
				if l.ValuesFrom != nil {
					d.checkRoot(l.ValuesFrom, roots, l.ValuesFrom.Pos)
				}
			}
		}
	}
	walk(a.Violation)
	if a.Message != nil {
		msgRoots := map[string]bool{"value": true, "values": true, "field": true, "params": true}
		for r := range roots {
			msgRoots[r] = true
		}
		for _, p := range a.Message.Parts {
			if p.Path != nil {
				d.checkRoot(p.Path, msgRoots, a.Message.Pos)
			}
		}
	}
}

func (d *decoder) checkRoot(p *Path, roots map[string]bool, pos Pos) {
	if !roots[p.Root] {
		d.errs.Add(pos, "path %s: unknown root %q (expected one of: %s)", p.Raw, p.Root, strings.Join(sortedKeys(roots), ", "))
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
