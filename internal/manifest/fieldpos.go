package manifest

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// FieldPos is the line and column in the file of the field a finding names,
// given as the engine writes paths (spec.template.spec.containers[0].image,
// relative to the object an AdmissionReview carries): the key of a mapping
// field, the element of a list index. When the path reaches past what the
// document holds (a required field that is absent) it is the deepest field
// that exists; when the document cannot be located it is the object's own
// line and column 1, or 0, 0 when that is unknown too.
func (d Doc) FieldPos(path string) (line, col int) {
	return d.Fields().Pos(path)
}

// Fields locates many fields of one object, parsing its document once.
type Fields struct {
	d   Doc
	obj *yaml.Node // the object's node, nil when it cannot be located
}

// Fields parses the object's document for Pos (or reuses the node tree
// parsing kept).
func (d Doc) Fields() Fields {
	f := Fields{d: d}
	if d.Line == 0 {
		return f
	}
	n := d.node
	if n == nil {
		if n = d.parseNode(); n == nil {
			return f
		}
	}
	if d.Object["kind"] == "AdmissionReview" {
		if obj := deref(mappingValue(deref(mappingValue(n, "request")), "object")); obj != nil {
			n = obj
		}
	}
	f.obj = n
	return f
}

// parseNode parses the document's text for the object's node: the
// document, or its items[i]...items[j] element.
func (d Doc) parseNode() *yaml.Node {
	return (&docTree{at: d.at}).item(d.items)
}

// Pos is FieldPos of one path.
func (f Fields) Pos(path string) (line, col int) {
	if f.d.Line == 0 {
		return 0, 0
	}
	if f.obj == nil {
		return f.d.Line, 1
	}
	n, at := f.obj, f.obj
	segs := splitPath(path)
	for k := 0; k < len(segs); {
		next, key, used := step(n, segs[k:])
		if next == nil {
			break
		}
		at, n, k = key, next, k+used
	}
	return f.d.abs(at)
}

// abs turns a node position within the document's text into the file's.
func (d Doc) abs(n *yaml.Node) (int, int) {
	col := n.Column
	if n.Line == 1 && d.at.col > 1 {
		col += d.at.col - 1
	}
	return d.at.line + n.Line - 1, col
}

// pathSeg is one step of a path: a field name, or a list index.
type pathSeg struct {
	name  string
	index int // -1 for a field
}

// splitPath cuts a.b[0].c["k.l"] into a, b, [0], c, k.l; a bracket holding
// a quoted string or no number is a map key.
func splitPath(p string) []pathSeg {
	var out []pathSeg
	for p != "" {
		switch {
		case p[0] == '.':
			p = p[1:]
		case strings.HasPrefix(p, `["`):
			q, err := strconv.QuotedPrefix(p[1:])
			key, uerr := strconv.Unquote(q)
			if err != nil || uerr != nil {
				return append(out, pathSeg{name: p[1:], index: -1})
			}
			out = append(out, pathSeg{name: key, index: -1})
			p = strings.TrimPrefix(p[1+len(q):], "]")
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return append(out, pathSeg{name: p[1:], index: -1})
			}
			if i, err := strconv.Atoi(p[1:end]); err == nil {
				out = append(out, pathSeg{index: i})
			} else {
				out = append(out, pathSeg{name: p[1:end], index: -1})
			}
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			out = append(out, pathSeg{name: p[:end], index: -1})
			p = p[end:]
		}
	}
	return out
}

// step follows the first segments from n: the node reached, the node to
// point at (a field's key, a list element) and how many segments it used. A
// key holding dots (app.kubernetes.io/name) is tried by joining segments.
func step(n *yaml.Node, segs []pathSeg) (next, at *yaml.Node, used int) {
	if n == nil {
		return nil, nil, 0
	}
	if s := segs[0]; s.index >= 0 {
		if n.Kind != yaml.SequenceNode || s.index >= len(n.Content) {
			return nil, nil, 0
		}
		e := n.Content[s.index]
		return deref(e), e, 1
	}
	if n.Kind != yaml.MappingNode {
		return nil, nil, 0
	}
	name := ""
	for j, s := range segs {
		if s.index >= 0 {
			break
		}
		if j > 0 {
			name += "."
		}
		name += s.name
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				return deref(n.Content[i+1]), n.Content[i], j + 1
			}
		}
	}
	return nil, nil, 0
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}
