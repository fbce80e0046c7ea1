package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// slowObject decodes one YAML document with kubectl's pieces only: its
// YAMLToJSONDecoder, unstructured decoding, the metadata check, the
// engine's JSON. ok is false unless that yields exactly one object and no
// error; null is true for a document kubectl skips.
func slowObject(doc []byte) (obj map[string]any, null, ok bool) {
	ext := runtime.RawExtension{}
	if err := utilyaml.NewYAMLToJSONDecoder(bytes.NewReader(doc)).Decode(&ext); err != nil {
		return nil, false, false
	}
	raw := bytes.TrimSpace(ext.Raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, true, true
	}
	objs, bad, err := decodeFlat(raw)
	if err != nil || len(bad) > 0 || len(objs) != 1 || objs[0].path != nil {
		return nil, false, false
	}
	m, err := toEngineValue(objs[0].obj)
	return m, false, err == nil
}

// checkFast holds both fast paths to the slow path on one document:
// whatever either decodes, kubectl decodes to the same object (or skips
// too). It returns the path that takes the document as Parse tries them:
// "node" (nodeObject), "v2" (fastObject) or "" (kubectl's own path).
func checkFast(t *testing.T, doc []byte) (path string) {
	t.Helper()
	want, null, sok := slowObject(doc)
	same := func(name string, got map[string]any) {
		t.Helper()
		switch {
		case !sok:
			t.Fatalf("%s decodes %q to %v; kubectl's decoder refuses it or sends something else", name, doc, got)
		case null != (got == nil):
			t.Fatalf("%s decodes %q to %v; kubectl skips it: %v", name, doc, got, null)
		case !reflect.DeepEqual(got, want):
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Fatalf("%s decodes %q to\n%s\nkubectl to\n%s", name, doc, g, w)
		}
	}
	if got, _, ok := nodeObject(doc); ok {
		same("nodeObject", got)
		path = "node"
	}
	if got, ok := fastObject(doc); ok {
		same("fastObject", got)
		if path == "" {
			path = "v2"
		}
	}
	return path
}

const fastPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {a: b}, annotations: {x: z}}\n"

// fastCases are documents and the path Parse decodes each by.
var fastCases = []struct {
	doc  string
	path string
}{
	{fastPod + "spec: {containers: [{name: c, image: x}]}\n", "node"},
	{fastPod + "spec:\n  containers:\n  - name: c\n    image: registry.k8s.io/pause:3.9\n    resources: {limits: {cpu: 100m, memory: 64Mi}}\n", "node"},
	{fastPod + "num: [0, -0, 1, -1, +5, 9223372036854775807, -9223372036854775808]\n", "node"},
	{fastPod + "num: [12345678901234567890, 18446744073709551615, 99999999999999999999999, 1e999]\n", "node"},
	{fastPod + "num: [1.0, 1.5, -0.0, 1e3, 1e21, 1e-7, 3.0e+2, 0.1, .5, 6.02e23, 0x1F, 0o17, 017, 1_000, 08, 1.2.3]\n", "node"},
	{fastPod + "num: [0b101, -0b11]\n", "node"},
	{fastPod + "num: [0b2]\n", "v2"},
	{fastPod + "num: [.inf]\n", ""},
	{fastPod + "num: [-.Inf]\n", ""},
	{fastPod + "num: .nan\n", ""},
	{fastPod + "b: [yes, no, on, off, y, n, true, False, ~, null, '', Yes, NO, 'yes', \"on\"]\n", "node"},
	{fastPod + "d: [2024-01-01, 2024-01-01T10:00:00Z, 2024-1-2 3:04:05]\n", "node"},
	{fastPod + "d: !!binary aGVsbG8=\n", "v2"},
	{fastPod + "t: !!str 5\n", "v2"},
	{fastPod + "t: ! 5\n", "v2"},
	{fastPod + "t: !custom x\n", "v2"},
	{fastPod + "s: \"\\xff\\t\\u00e9\"\n", "node"}, // U+00FF, not a byte
	{fastPod + "s: \"\\udfff\"\n", ""},
	{fastPod + "\"\\xfe\": x\n", "node"},
	{fastPod + "'yes': quoted key\n", "node"},
	{fastPod + "n: no key\n", ""}, // n is false in YAML 1.1: a key that is not a string
	{fastPod + "1: int key\n", ""},
	{fastPod + "? [a]\n: complex key\n", ""},
	{fastPod + "m: {1: a, true: b, 1.5: c}\n", ""},
	{fastPod + "a: &x {k: v}\nb: *x\n", "v2"},
	{fastPod + "base: &b {k: v}\nmerged: {<<: *b, j: w}\n", "v2"},
	{fastPod + "dup: 1\ndup: 2\n", "node"},
	{fastPod + "lit: |\n  line one\n  line two\nfold: >-\n  folded\n  text\nplain: multi\n  line plain\n", "node"},
	{fastPod + "empty:\nlist: []\nmap: {}\n", "node"},
	{"%YAML 1.1\napiVersion: v1\nkind: Pod\n", ""},
	{"apiVersion: v1\nkind: Pod\n", "node"},
	{"---\n# Source: chart/templates/pod.yaml\n  # indented\n\napiVersion: v1\nkind: Pod\n", "node"},
	{"apiVersion: v1 # trailing\nkind: Pod\n", "v2"},
	{fastPod + "spec: # after a key\n  containers:\n  - # after a dash\n    name: c\n", "v2"},
	{fastPod + "x: [a, # in a flow\n  b]\n", "v2"},
	{fastPod + "x:\n  k: 1\n# foot at a dedent\nz: 2\n", "v2"},
	{fastPod + "x: 'a # not a comment'\n", "v2"},
	{fastPod + "x: a\n# before the end\n...\n", "v2"},
	{"apiVersion: v1\nkind: Pod\nmetadata: {name: 5}\n", ""},
	{"apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {a: 1}}\n", ""},
	{"apiVersion: v1\nkind: Pod\nmetadata: {name: p, creationTimestamp: null}\n", ""},
	{"apiVersion: v1\nkind: Pod\nmetadata: null\n", ""},
	{"apiVersion: v1\nkind: Pod\nmetadata: []\n", ""},
	{"kind: Pod\nmetadata: {name: p}\n", ""},
	{"apiVersion: v1\nmetadata: {name: p}\n", ""},
	{"apiVersion: a/b/c\nkind: Pod\n", ""},
	{"apiVersion: apps/\nkind: Pod\n", ""},
	{"apiVersion: 1\nkind: Pod\n", ""},
	{"apiVersion: v1\nkind: PodList\nitems: []\n", ""},
	{"apiVersion: v1\nkind: Pod\nitems: null\n", ""},
	{"- a\n- b\n", ""},
	{"just a string\n", ""},
	{"# only a comment\n", "v2"},
	{"~\n", "v2"},
	{"null\n", "v2"},
	{"apiVersion: v1\nkind: Pod\nspec: [\n", ""},
	{"apiVersion: v1\nkind: Pod\n\tbad: tab\n", ""},
}

// exoticDocs are YAML corners where two parsers could disagree: long
// simple keys, Unicode and lone-CR line breaks, BOMs, document end markers,
// flow trailing commas, block scalar indicators, escapes, number shapes
// YAML 1.1 and Go read differently, sexagesimal and timestamps.
var exoticDocs = []string{
	fastPod + strings.Repeat("k", 1100) + ": v\n",
	fastPod + "x: \"" + strings.Repeat("k", 1100) + "\"\n",
	fastPod + "x: a\u2028b: c\n",
	fastPod + "x: a\u0085b: c\n",
	fastPod + "x: a\rb: c\n",
	fastPod + "x: a\r\ny: c\r\n",
	fastPod + "x: a\n...\n",
	fastPod + "x: \ufeffa\n",
	"\ufeff" + fastPod,
	fastPod + "x: [a, b,]\n",
	fastPod + "x: {a: b,}\n",
	fastPod + "x: 'it''s'\n",
	fastPod + "x: a # c\ny: b#c\n",
	fastPod + "x:\n- a\n-   - b\n    - c\n",
	fastPod + "x: - a\n",
	fastPod + "x: @a\n",
	fastPod + "x: `a\n",
	fastPod + "? x\n: y\n",
	fastPod + "x: |+\n  a\n\n",
	fastPod + "x: |2\n   a\n",
	fastPod + "x: >\n  a\n\n  b\n   c\n",
	fastPod + "x: \"a\n  b\"\n",
	fastPod + "x: a\n  b\n  c: d\n",
	fastPod + "x: {a: [b, {c: d}], e: \"f\"}\n",
	fastPod + "x: \"\\N\\_\\L\\P\\e\\a\"\n",
	fastPod + "x: \"\\x00\"\n",
	fastPod + "x: \"\\0\"\n",
	fastPod + "\"x\": 1\nx: 2\n",
	fastPod + "x: 1\n'x': 2\n",
	fastPod + "x: 0.\n",
	fastPod + "x: +.5\n",
	fastPod + "x: -.5e3\n",
	fastPod + "x: 1e\n",
	fastPod + "x: 0x\n",
	fastPod + "x: 0o\n",
	fastPod + "x: 1__0\n",
	fastPod + "x: _1\n",
	fastPod + "x: 1_\n",
	fastPod + "x: 0_7\n",
	fastPod + "x: 0x_1F\n",
	fastPod + "x: 9_223_372_036_854_775_808\n",
	fastPod + "x: -9223372036854775809\n",
	fastPod + "x: 1:20\n",
	fastPod + "x: 190:20:30\n",
	fastPod + "x: 2001-12-14t21:59:43.10-05:00\n",
	fastPod + "x: 2002-12-14\n",
	fastPod + "x: 12e03\n",
	fastPod + "x: 1.e+3\n",
}

// TestFastObjectExotic: on each corner either fast path that takes the
// document decodes exactly what kubectl's own decoder does.
func TestFastObjectExotic(t *testing.T) {
	taken := 0
	for _, d := range exoticDocs {
		if checkFast(t, []byte(d)) != "" {
			taken++
		}
	}
	if taken < len(exoticDocs)/2 {
		t.Errorf("the fast paths took only %d of %d documents", taken, len(exoticDocs))
	}
}

func TestFastObjectMatchesKubectl(t *testing.T) {
	for _, tc := range fastCases {
		if path := checkFast(t, []byte(tc.doc)); path != tc.path {
			t.Errorf("%q: taken by %q, want %q", tc.doc, path, tc.path)
		}
	}
}

// FuzzFastObject: on every document kubectl's YAMLReader cuts from any
// input, the fast path either gives up or decodes exactly what kubectl's
// own decoder does.
func FuzzFastObject(f *testing.F) {
	files, _ := filepath.Glob("testdata/kubectl/*")
	more, _ := filepath.Glob("../../examples/manifests/*")
	for _, p := range append(files, more...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, c := range fastCases {
		f.Add([]byte(c.doc))
	}
	for _, d := range exoticDocs {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if err != nil {
				return
			}
			checkFast(t, doc)
		}
	})
}

// TestFieldsReuseNode: a field's position from the node tree the fast
// path kept is the one a fresh parse of the document gives, for every
// field of every object in the corpora.
func TestFieldsReuseNode(t *testing.T) {
	files, _ := filepath.Glob("testdata/kubectl/*.yaml")
	more, _ := filepath.Glob("../../examples/manifests/*.yaml")
	kept, compared := 0, 0
	for _, p := range append(files, more...) {
		docs, _ := Parse(p, mustRead(t, p))
		for _, d := range docs {
			if d.node == nil {
				continue
			}
			kept++
			fresh := d
			fresh.node = nil
			var paths []string
			leafPaths(d.Object, "", &paths)
			for _, path := range paths {
				gl, gc := d.FieldPos(path)
				wl, wc := fresh.FieldPos(path)
				if gl != wl || gc != wc {
					t.Errorf("%s#%d %s: kept node says %d:%d, a fresh parse %d:%d", p, d.Index, path, gl, gc, wl, wc)
				}
				compared++
			}
		}
	}
	if kept == 0 || compared == 0 {
		t.Fatal("no object kept its node: the fast path never ran")
	}
	t.Logf("%d objects, %d fields", kept, compared)
}

func leafPaths(v any, at string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if at != "" {
				p = at + "." + k
			}
			leafPaths(e, p, out)
		}
	case []any:
		for i, e := range x {
			leafPaths(e, at+"["+strconv.Itoa(i)+"]", out)
		}
	default:
		*out = append(*out, at)
	}
}
