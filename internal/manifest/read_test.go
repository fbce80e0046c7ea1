package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		indices []int
		lines   []int
		errs    []string
	}{
		{"multi document", "apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\n", []int{0, 1}, []int{1, 4}, nil},
		{"empty documents are skipped", "---\napiVersion: v1\nkind: A\n---\n---\n# c\napiVersion: v1\nkind: B\n", []int{0, 1}, []int{2, 7}, nil},
		{"json", `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}`, []int{0}, []int{1}, nil},
		{"syntax error ends the file, as in kubectl", "apiVersion: v1\nkind: A\n---\nkind: [\n---\napiVersion: v1\nkind: B\n", []int{0}, []int{1}, []string{"f.yaml:4:7: invalid YAML"}},
		{"not an object", "apiVersion: v1\nkind: A\n---\n- 1\n- 2\n", []int{0}, []int{1}, []string{"f.yaml:4:1: unable to decode"}},
		{"no kind is not sent", "apiVersion: v1\nmetadata: {name: a}\n", nil, nil, []string{"f.yaml:1:1: unable to decode: Object 'Kind' is missing"}},
		{"list item without apiVersion", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod}\n- kind: Pod\n", []int{0}, []int{4}, []string{"f.yaml:5:1: items[1]: Object 'apiVersion' is missing"}},
		{"separator with content", "apiVersion: v1\nkind: A\n--- kind: B\n", nil, nil, []string{"f.yaml:3:1: invalid Yaml document separator: kind: B"}},
		{"complex key", "? [a]\n: b\n", nil, nil, []string{"f.yaml:1:1: "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs, errs := Parse("f.yaml", []byte(tc.src))
			var got, lines []int
			for _, d := range docs {
				got = append(got, d.Index)
				lines = append(lines, d.Line)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.indices) || fmt.Sprint(lines) != fmt.Sprint(tc.lines) {
				t.Fatalf("indices = %v lines = %v, want %v %v (errs %v)", got, lines, tc.indices, tc.lines, errs)
			}
			if len(errs) != len(tc.errs) {
				t.Fatalf("errors = %v, want %q", errs, tc.errs)
			}
			for i, w := range tc.errs {
				if !strings.HasPrefix(errs[i].Error(), w) {
					t.Errorf("errors = %v, want %q", errs, w)
				}
			}
		})
	}
}

// TestKubernetesSemantics: documents decode as kubectl decodes them, so an
// object cannot pass CI and then apply differently.
func TestKubernetesSemantics(t *testing.T) {
	src := "# leading comment\n---\napiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: yes\n  containers:\n  - securityContext: {privileged: on}\n    date: 2024-01-01\n    big: 12345678901234567890\n--- # trailing comment\nkind: [\n"
	docs, errs := Parse("f.yaml", []byte(src))
	if len(docs) != 1 || docs[0].Index != 0 || docs[0].Line != 3 {
		t.Fatalf("docs = %+v", docs)
	}
	spec := docs[0].Object["spec"].(map[string]any)
	c := spec["containers"].([]any)[0].(map[string]any)
	if spec["hostNetwork"] != true || c["securityContext"].(map[string]any)["privileged"] != true {
		t.Errorf("YAML 1.1 booleans: %v", spec)
	}
	// kubectl sends integers beyond int64 as floating point numbers.
	if c["date"] != "2024-01-01" || fmt.Sprint(c["big"]) != "12345678901234567000" {
		t.Errorf("date = %v, big = %v", c["date"], c["big"])
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "f.yaml:12:7: invalid YAML") {
		t.Errorf("errs = %v", errs)
	}
}

func TestReadDirectoryAndIdentity(t *testing.T) {
	dir := t.TempDir()
	must := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must(filepath.Join(dir, "b/pod.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\n")
	must(filepath.Join(dir, "a.json"), `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"object":{"kind":"Pod","metadata":{"name":"r","namespace":"n2"}}}}`)
	must(filepath.Join(dir, "notes.txt"), "not read")
	must(filepath.Join(dir, ".hidden/x.yaml"), "kind: [")
	docs, err := Read([]string{dir}, strings.NewReader(""))
	if err == nil || !strings.Contains(err.Error(), ".hidden/x.yaml:1:7: invalid YAML") {
		t.Fatalf("kubectl -R reads hidden directories; err = %v", err)
	}
	if len(docs) != 2 || docs[0].Name() != "r" || docs[0].Namespace() != "n2" || docs[1].Kind() != "Pod" || docs[1].Namespace() != "ns" {
		t.Errorf("docs = %+v", docs)
	}
	_, err = Read([]string{filepath.Join(dir, "missing.yaml")}, nil)
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file error = %v", err)
	}
}

// FuzzParse: any bytes give documents and positioned errors, never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"kind: A\n---\nkind: B\n", `{"a": [1, {"b": null}]}`, "a: &x [1]\nb: *x\n", "- 1\n", "a: 2024-01-01\n"} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob("../../examples/manifests/*")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, errs := Parse("f", data)
		for i, d := range docs {
			if d.Index != i {
				t.Fatalf("index %d at %d", d.Index, i)
			}
		}
		for _, d := range docs {
			if d.Object == nil {
				t.Fatal("nil object")
			}
		}
		for _, e := range errs {
			if e.Pos.File != "f" {
				t.Fatalf("error without file: %v", e)
			}
		}
	})
}

// TestReadFileBound: a file one byte over MaxFileSize is refused with its
// size named; one of exactly MaxFileSize is read whole.
func TestReadFileBound(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		size int
		err  string
	}{{MaxFileSize, ""}, {MaxFileSize + 1, "file larger than 67108864 bytes"}} {
		p := filepath.Join(dir, "big.yaml")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(int64(tc.size)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		data, err := readFile(p)
		switch {
		case tc.err == "" && (err != nil || len(data) != tc.size):
			t.Errorf("%d bytes: read %d, %v", tc.size, len(data), err)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%d bytes: error %v, want %q", tc.size, err, tc.err)
		}
	}
}

// TestLongListParsedOnce: the objects of a List, their lines and their
// fields' positions come from one parse of the document, not one per item
// (a 3,000-item List took 9 minutes when each item re-parsed it).
func TestLongListParsedOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	const n = 20000
	for i := range n {
		fmt.Fprintf(&b, "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p-%d}\n  spec:\n    containers:\n    - {name: c, image: x}\n", i)
	}
	start := time.Now()
	docs, errs := Parse("list.yaml", []byte(b.String()))
	if len(errs) > 0 || len(docs) != n {
		t.Fatalf("%d objects, errors %v", len(docs), errs)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		d := docs[i]
		if want := 4 + 6*i; d.Line != want {
			t.Errorf("item %d on line %d, want %d", i, d.Line, want)
		}
		if l, c := d.FieldPos("spec.containers[0].image"); l != d.Line+5 || c != 17 {
			t.Errorf("item %d image at %d:%d, want %d:17", i, l, c, d.Line+5)
		}
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("%d items took %v: parsed more than once?", n, el)
	}
}

// TestLongStreamsLinear: a YAML stream and a JSON stream of many objects
// are located in one pass (lines counted incrementally, not from the top
// of the file for each document).
func TestLongStreamsLinear(t *testing.T) {
	const n = 10000
	var y, j strings.Builder
	for i := range n {
		fmt.Fprintf(&y, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p-%d}\nspec:\n  containers:\n  - {name: c, image: x}\n", i)
		fmt.Fprintf(&j, "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n \"metadata\": {\"name\": \"p-%d\"}}\n", i)
	}
	for _, tc := range []struct {
		name, text string
		lines      int
	}{{"stream.yaml", y.String(), 7}, {"stream.json", j.String(), 2}} {
		start := time.Now()
		docs, errs := Parse(tc.name, []byte(tc.text))
		if len(errs) > 0 || len(docs) != n {
			t.Fatalf("%s: %d objects, errors %v", tc.name, len(docs), errs)
		}
		for _, i := range []int{0, n / 2, n - 1} {
			want := 1 + tc.lines*i
			if tc.lines == 7 {
				want++ // after the "---" line
			}
			if docs[i].Line != want {
				t.Errorf("%s: object %d on line %d, want %d", tc.name, i, docs[i].Line, want)
			}
		}
		if el := time.Since(start); el > 20*time.Second {
			t.Errorf("%s: %d objects took %v", tc.name, n, el)
		}
		t.Logf("%s: %d objects in %v", tc.name, n, time.Since(start))
	}
}

// TestAliasedListItemLine: a List item written as an alias is located where
// it stands; its fields where the anchor defines them.
func TestAliasedListItemLine(t *testing.T) {
	src := "apiVersion: v1\nkind: List\nitems:\n- &p\n  apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec: {containers: [{name: c, image: x}]}\n- *p\n"
	docs, errs := Parse("list.yaml", []byte(src))
	if len(errs) > 0 || len(docs) != 2 {
		t.Fatalf("%d objects, errors %v", len(docs), errs)
	}
	if docs[0].Line != 4 || docs[1].Line != 9 {
		t.Errorf("items on lines %d and %d, want 4 and 9", docs[0].Line, docs[1].Line)
	}
	if l, _ := docs[1].FieldPos("spec.containers[0].image"); l != 8 {
		t.Errorf("the alias's image at line %d, want 8 (the anchor's)", l)
	}
}

// TestDeeplyNestedManifest: a document nested 200,000 brackets deep (400 KB)
// is refused at once with yaml.v3's depth error, never handed to the parser
// that locates columns (quadratic in depth: minutes before).
func TestDeeplyNestedManifest(t *testing.T) {
	const n = 200000
	doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nx: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n"
	start := time.Now()
	docs, errs := Parse("deep.yaml", []byte(doc))
	if len(docs) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "exceeded max depth") || !strings.HasPrefix(errs[0].Error(), "deep.yaml:") {
		t.Fatalf("objects %v, errors %v", docs, errs)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %v", el)
	}
}
