package charter

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder walks a YAML node tree into charter types, collecting every error.
type decoder struct {
	file string
	src  []byte
	errs ErrorList
}

// blockStart is where the text of a scalar starts: for a literal or folded
// block (rego: |), the first character of its first line; else the scalar.
func (d *decoder) blockStart(n *yaml.Node) Pos {
	pos := d.pos(n)
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		return pos
	}
	lines := bytes.Split(d.src, []byte("\n"))
	if n.Line >= len(lines) {
		return pos
	}
	first := lines[n.Line] // the line after the indicator (Line is 1-based)
	indent := len(first) - len(bytes.TrimLeft(first, " "))
	return Pos{File: d.file, Line: n.Line + 1, Col: indent + 1}
}

func (d *decoder) pos(n *yaml.Node) Pos { return nodePos(d.file, n) }

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs.Add(d.pos(n), format, args...)
}

// fields decodes a mapping whose keys must be among the handlers' names.
func (d *decoder) fields(n *yaml.Node, what string, handlers map[string]func(*yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			d.errorf(k, "duplicate field %q in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		h, ok := handlers[k.Value]
		if !ok {
			d.errorf(k, "unknown field %q in %s (expected one of: %s)", k.Value, what, strings.Join(sortedKeys(handlers), ", "))
			continue
		}
		h(v)
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar (" + strings.TrimPrefix(n.Tag, "!!") + ")"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// str decodes a string scalar. Numbers are accepted as their text (version: 1.2).
func (d *decoder) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s must be a string, not %s", what, kindName(n))
		return ""
	}
	if n.Tag == "!!bool" {
		d.errorf(n, "%s must be a string, not a boolean (quote it)", what)
		return ""
	}
	return n.Value
}

func (d *decoder) strList(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list of strings, not %s", what, kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		out = append(out, d.str(e, what+" entry"))
	}
	return out
}

func (d *decoder) integer(n *yaml.Node, what string) int {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, "%s must be an integer, not %s", what, kindName(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		d.errorf(n, "%s: %v", what, err)
	}
	return v
}

// oneOf checks that a string is one of the allowed values.
func (d *decoder) oneOf(n *yaml.Node, what, v string, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	if v != "" || n.Tag != "!!null" {
		d.errorf(n, "%s %q is not one of: %s", what, v, strings.Join(allowed, ", "))
	}
	return ""
}

func required(d *decoder, n *yaml.Node, what string, present map[string]bool, names ...string) {
	for _, name := range names {
		if !present[name] {
			d.errorf(n, "%s is missing required field %q", what, name)
		}
	}
}

// present lists the keys of a mapping node.
func present(n *yaml.Node) map[string]bool {
	out := map[string]bool{}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = true
		}
	}
	return out
}

func (d *decoder) value(n *yaml.Node) any {
	v, err := NodeValue(n)
	if err != nil {
		d.errorf(n, "%v", err)
	}
	return v
}

func (d *decoder) fail(n *yaml.Node, err error) {
	d.errs.Add(d.pos(n), "%s", strings.TrimPrefix(fmt.Sprint(err), "message: "))
}
