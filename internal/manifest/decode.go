package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/charter-dev/charter/charter"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured/unstructuredscheme"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Parse decodes data the way `kubectl apply -f` does, with the pieces kubectl
// uses (k8s.io/cli-runtime's StreamVisitor, unstructured decoding and
// FlattenListVisitor): a byte-order mark selects UTF-16, JSON streams ({}{})
// and YAML streams cut at "---" lines (a comment may follow, and any Unicode
// space) are read document by document, a syntax error ends the file (kubectl
// sends what came before it), every object with an items list (kind: List,
// any *List, or a Pod that also carries items) is replaced by its items,
// breadth first, an item without kind inherits the list's kind minus "List",
// and an object without kind or apiVersion is an error and is not sent.
//
// The objects are exactly those kubectl sends (proven against the
// cli-runtime resource builder by TestKubectlParity and FuzzKubectlParity);
// Index counts them within the file and Line points at each in the text.
func Parse(file string, data []byte) ([]Doc, charter.ErrorList) {
	data = decodeBOM(data)
	p := &parser{file: file, spots: locate(data)}
	if utilyaml.IsJSONBuffer(head(data)) {
		p.stream(utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), guessBytes))
	} else {
		p.yamlStream(data)
	}
	return p.docs, p.errs
}

// guessBytes is how much of a file kubectl's decoder looks at to tell a
// JSON stream from YAML.
const guessBytes = 4096

func head(data []byte) []byte {
	return data[:min(len(data), guessBytes)]
}

// parser collects the objects and errors of one file; n counts the
// non-null documents decoded, which index spots.
type parser struct {
	file  string
	spots spots
	n     int
	docs  []Doc
	errs  charter.ErrorList
}

// stream decodes with kubectl's YAMLOrJSONDecoder (JSON streams, and YAML
// after a JSON stream's first objects).
func (p *parser) stream(dec *utilyaml.YAMLOrJSONDecoder) {
	for {
		ext := runtime.RawExtension{}
		if err := dec.Decode(&ext); err != nil {
			if err != io.EOF {
				p.errs = append(p.errs, p.spots.at(p.n).syntaxError(p.file, err))
			}
			return
		}
		p.raw(ext.Raw)
	}
}

// yamlStream is what YAMLOrJSONDecoder does with a YAML stream (cut by its
// YAMLReader, each document decoded by its YAMLToJSONDecoder), with one
// parse per plain object (nodeObject, whose node tree FieldPos reuses, or
// else fastObject); any other document takes the decoder's own path.
func (p *parser) yamlStream(data []byte) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if err != nil {
			if err != io.EOF {
				p.errs = append(p.errs, p.spots.at(p.n).syntaxError(p.file, err))
			}
			return
		}
		if len(doc) == 0 {
			continue
		}
		if obj, node, ok := nodeObject(doc); ok {
			p.add(&docTree{at: p.spots.at(p.n)}, flatObject{}, obj).node = node
			p.n++
			continue
		}
		if obj, ok := fastObject(doc); ok {
			if obj != nil {
				p.add(&docTree{at: p.spots.at(p.n)}, flatObject{}, obj)
				p.n++
			}
			continue
		}
		ext := runtime.RawExtension{}
		if err := utilyaml.NewYAMLToJSONDecoder(bytes.NewReader(doc)).Decode(&ext); err != nil {
			p.errs = append(p.errs, p.spots.at(p.n).syntaxError(p.file, err))
			return
		}
		p.raw(ext.Raw)
	}
}

// raw decodes one document's JSON as kubectl does, lists flattened.
func (p *parser) raw(raw []byte) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return
	}
	tree := &docTree{at: p.spots.at(p.n)}
	p.n++
	objs, bad, err := decodeFlat(raw)
	if err != nil {
		p.errs.Add(tree.pos(p.file, nil), "%v", err)
	}
	for _, b := range bad {
		p.errs.Add(tree.pos(p.file, b.path), "items%s: %v", itemPath(b.path), b.err)
	}
	for _, o := range objs {
		m, err := toEngineValue(o.obj)
		if err != nil {
			p.errs.Add(tree.pos(p.file, o.path), "%v", err)
			continue
		}
		d := p.add(tree, o, m)
		if o.path != nil {
			d.node = tree.item(o.path) // the list was parsed once for its lines: keep each item's node for FieldPos
		}
	}
}

func (p *parser) add(tree *docTree, o flatObject, m map[string]any) *Doc {
	p.docs = append(p.docs, Doc{File: p.file, Index: len(p.docs), Line: tree.lineOf(o.path), Object: m, at: tree.at, items: o.path})
	return &p.docs[len(p.docs)-1]
}

// decodeBOM applies kubectl's FileVisitor transform: a UTF-16 byte-order mark
// selects UTF-16, a UTF-8 one is dropped.
func decodeBOM(data []byte) []byte {
	out, _, err := transform.Bytes(unicode.BOMOverride(unicode.UTF8.NewDecoder()), data)
	if err != nil {
		return data
	}
	return out
}

// flatObject is one object kubectl sends and the items path that led to it
// (nil for a top-level object).
type flatObject struct {
	obj  runtime.Object
	path []int
}

// badItem is a list item kubectl does not send (no kind or apiVersion).
type badItem struct {
	path []int
	err  error
}

// decodeFlat decodes one raw document as cli-runtime's mapper does
// (unstructured, metadata checked) and flattens lists as FlattenListVisitor
// does: the objects it sends, the list items it refuses, or err when it
// sends nothing from the document.
func decodeFlat(raw []byte) ([]flatObject, []badItem, error) {
	obj, _, err := unstructured.UnstructuredJSONScheme.Decode(raw, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("unable to decode: %v", err)
	}
	var m struct {
		metav1.TypeMeta   `json:""`
		metav1.ObjectMeta `json:"metadata,omitempty"`
	}
	if err := utiljson.Unmarshal(raw, &m); err != nil {
		return nil, nil, err
	}
	if !meta.IsListType(obj) {
		return []flatObject{{obj: obj}}, nil, nil
	}
	queue := []flatObject{{obj: obj}}
	var leaves []flatObject
	for i := 0; i < len(queue); i++ {
		cur := queue[i]
		if !meta.IsListType(cur.obj) {
			leaves = append(leaves, cur)
			continue
		}
		items, err := meta.ExtractList(cur.obj)
		if err != nil {
			return nil, nil, err
		}
		if errs := runtime.DecodeList(items, unstructured.UnstructuredJSONScheme); len(errs) > 0 {
			return nil, nil, errors.Join(errs...)
		}
		for j, it := range items {
			queue = append(queue, flatObject{obj: it, path: append(append([]int(nil), cur.path...), j)})
		}
	}
	var out []flatObject
	var bad []badItem
	typer := unstructuredscheme.NewUnstructuredObjectTyper()
	for _, l := range leaves {
		if _, _, err := typer.ObjectKinds(l.obj); err != nil {
			bad = append(bad, badItem{l.path, err})
			continue
		}
		out = append(out, l)
	}
	return out, bad, nil
}

func itemPath(p []int) string {
	var b bytes.Buffer
	for i, n := range p {
		if i > 0 {
			b.WriteString(".items")
		}
		fmt.Fprintf(&b, "[%d]", n)
	}
	return b.String()
}

// toEngineValue turns a decoded object into the values the engine reads
// (JSON numbers as json.Number), from the bytes kubectl would send.
func toEngineValue(o runtime.Object) (map[string]any, error) {
	u, ok := o.(runtime.Unstructured)
	if !ok {
		return nil, fmt.Errorf("unexpected object type %T", o)
	}
	j, err := json.Marshal(u.UnstructuredContent())
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}
