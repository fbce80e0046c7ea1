package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charter-dev/charter/charter"
	"gopkg.in/yaml.v3"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// spot is where one non-empty document kubectl decodes sits in its file: its
// text and the 1-based line of text[0]. Positions are for reports only; the
// objects themselves come from kubectl's decoder.
type spot struct {
	text []byte
	line int
	col  int // 1-based byte column of text[0] (0: 1)
}

type spots []spot

// at is the n-th non-empty document, or a spot without a position.
func (s spots) at(n int) spot {
	if n < len(s) {
		return s[n]
	}
	return spot{}
}

// locate finds the documents the way utilyaml.YAMLOrJSONDecoder cuts them:
// a JSON stream when the first 4096 bytes start with "{" (turning to YAML
// after a failure on the first or second object), else YAML documents
// cut by its own YAMLReader.
func locate(data []byte) spots {
	if !utilyaml.IsJSONBuffer(head(data)) {
		return locateYAML(data, 1)
	}
	var out spots
	lines := lineCounter{data: data}
	dec := json.NewDecoder(bytes.NewReader(data))
	count, end := 0, 0
	for {
		start := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if err == io.EOF || count > 1 {
				if err != io.EOF {
					out = append(out, spot{line: lines.at(start)})
				}
				return out
			}
			rest := end + leadingBlankLine(data[end:])
			return append(out, locateYAML(data[rest:], lines.at(rest))...)
		}
		count++
		end = int(dec.InputOffset())
		start += len(data[start:end]) - len(bytes.TrimLeftFunc(data[start:end], unicode.IsSpace))
		if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
			out = append(out, spot{text: data[start:end], line: lines.at(start), col: start - bytes.LastIndexByte(data[:start], '\n')})
		}
	}
}

// leadingBlankLine is how many bytes of white space the decoder eats before
// turning to YAML: up to and including the first newline.
func leadingBlankLine(b []byte) int {
	n := 0
	for n < len(b) {
		r, sz := utf8.DecodeRune(b[n:])
		if !unicode.IsSpace(r) {
			return n
		}
		n += sz
		if r == '\n' {
			return n
		}
	}
	return n
}

func locateYAML(data []byte, base int) spots {
	var out spots
	norm := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	lines := lineCounter{data: norm}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	cursor := 0
	for {
		doc, err := r.Read()
		if len(doc) > 0 {
			off := findLines(norm, cursor, doc[:len(doc)-1])
			s := spot{text: doc}
			if off >= 0 {
				s.line = base + lines.at(off) - 1
				cursor = off + len(doc) - 1
			}
			if !nullDocument(doc) {
				out = append(out, s)
			}
		}
		if err != nil {
			if err != io.EOF {
				out = append(out, spot{line: base + badSeparatorLine(norm, cursor)})
			}
			return out
		}
	}
}

// nullDocument says whether the decoder skips doc: it converts to nothing
// or to null (comments only, "~", "null"). A document whose first content
// line is a plain key at column 0 ("kind: Pod") is a mapping, so the
// conversion, a full YAML parse, is only needed for the other shapes.
func nullDocument(doc []byte) bool {
	if startsWithKey(doc) {
		return false
	}
	j, err := sigsyaml.YAMLToJSON(doc)
	t := bytes.TrimSpace(j)
	return err == nil && (len(t) == 0 || bytes.Equal(t, []byte("null")))
}

// startsWithKey is true when the first line of doc that is neither blank
// nor a comment is a top-level block mapping key: a letter, then letters,
// digits or "_.-/", then ":" ending the line or followed by a blank.
func startsWithKey(doc []byte) bool {
	for len(doc) > 0 {
		line := doc
		if i := bytes.IndexByte(doc, '\n'); i >= 0 {
			line, doc = doc[:i], doc[i+1:]
		} else {
			doc = nil
		}
		if t := bytes.TrimSpace(line); len(t) == 0 || t[0] == '#' {
			continue
		}
		if len(line) == 0 || !isLetter(line[0]) {
			return false
		}
		for i := 1; i < len(line); i++ {
			c := line[i]
			switch {
			case c == ':':
				return i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t' || line[i+1] == '\r'
			case isLetter(c) || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '/':
			default:
				return false
			}
		}
		return false
	}
	return false
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// badSeparatorLine is the 0-based line of the first "---" line after from
// that carries more than a comment, which YAMLReader refuses.
func badSeparatorLine(data []byte, from int) int {
	line := bytes.Count(data[:from], []byte("\n"))
	if from > 0 && data[from-1] != '\n' {
		line++ // from is inside a line: start at the next one
		from += bytes.IndexByte(data[from:], '\n') + 1
	}
	for _, l := range bytes.SplitAfter(data[from:], []byte("\n")) {
		if rest, ok := bytes.CutPrefix(l, []byte("---")); ok {
			if t := strings.TrimSpace(string(rest)); len(t) > 0 && t[0] != '#' {
				return line
			}
		}
		line++
	}
	return line
}

// findLines finds text in data at or after from, starting at a line start.
func findLines(data []byte, from int, text []byte) int {
	for from <= len(data) {
		i := bytes.Index(data[from:], text)
		if i < 0 {
			return -1
		}
		at := from + i
		if at == 0 || data[at-1] == '\n' {
			return at
		}
		from = at + 1
	}
	return -1
}

func lineAt(data []byte, off int) int {
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// lineCounter is lineAt for offsets that mostly grow: it counts only the
// newlines since the previous offset, so locating n documents is one pass
// over the file, not n.
type lineCounter struct {
	data  []byte
	off   int
	lines int // newlines in data[:off]
}

func (c *lineCounter) at(off int) int {
	if off < c.off {
		return lineAt(c.data, off)
	}
	c.lines += bytes.Count(c.data[c.off:off], []byte("\n"))
	c.off = off
	return 1 + c.lines
}

// docTree is one document's yaml.v3 node tree, parsed at most once however
// many list items of it are located (a List of n items must not cost n
// parses).
type docTree struct {
	at     spot
	root   *yaml.Node
	parsed bool
}

// item is the node of the items[i]...items[j] element at path (the
// document's own node for an empty path), or nil when the text does not
// parse or hold it.
func (t *docTree) item(path []int) *yaml.Node {
	_, n := t.element(path)
	return n
}

// element is item and the element node as written: an alias (- *p) is
// located where it stands, its object where the anchor defines it.
func (t *docTree) element(path []int) (at, n *yaml.Node) {
	if !t.parsed {
		t.parsed = true
		var root yaml.Node
		if t.at.text != nil && yaml.Unmarshal(t.at.text, &root) == nil && len(root.Content) > 0 {
			t.root = root.Content[0]
		}
	}
	at, n = t.root, deref(t.root)
	for _, i := range path {
		items := deref(mappingValue(n, "items"))
		if items == nil || items.Kind != yaml.SequenceNode || i >= len(items.Content) {
			return nil, nil
		}
		at = items.Content[i]
		n = deref(at)
	}
	return at, n
}

// lineOf is the file line of the object at the items path: the document's
// first content line, or its items[i]...items[j] element.
func (t *docTree) lineOf(path []int) int {
	s := t.at
	if s.line == 0 {
		return 0
	}
	if len(path) > 0 {
		if at, _ := t.element(path); at != nil {
			return s.line + at.Line - 1
		}
	}
	return s.line + firstContentLine(s.text)
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// firstContentLine is the 0-based line of text's first line that is not
// blank, a comment or a "---" marker (YAMLReader keeps leading ones).
func firstContentLine(text []byte) int {
	for i := 0; len(text) > 0; i++ {
		l := text
		if j := bytes.IndexByte(text, '\n'); j >= 0 {
			l, text = text[:j], text[j+1:]
		} else {
			text = nil
		}
		if rest, ok := bytes.CutPrefix(l, []byte("---")); ok {
			l = rest
		}
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			return i
		}
	}
	return 0
}

func (t *docTree) pos(file string, path []int) charter.Pos {
	p := charter.Pos{File: file, Line: t.lineOf(path)}
	if p.Line > 0 {
		p.Col = 1
	}
	return p
}

// syntaxError positions a decoding error: yaml.v3 and a second parser
// locate syntax errors in the document; other errors point at its first line.
func (s spot) syntaxError(file string, err error) *charter.Error {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	var se utilyaml.YAMLSyntaxError
	if s.text != nil && (errors.As(err, &se) || strings.HasPrefix(msg, "yaml: ")) {
		var n yaml.Node
		if v3err := yaml.Unmarshal(s.text, &n); v3err != nil {
			e := charter.SyntaxError(file, s.text, v3err)
			e.Pos.Line += s.line - 1
			return e
		}
	}
	return &charter.Error{Pos: (&docTree{at: s}).pos(file, nil), Msg: msg}
}
