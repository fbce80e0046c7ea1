package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		src     string
		indices []int
		errs    []string
	}{
		{"multi document", "kind: A\n---\nkind: B\n", []int{0, 1}, nil},
		{"empty documents keep their index", "---\nkind: A\n---\n---\nkind: B\n", []int{0, 2}, nil},
		{"json", `{"kind": "Pod", "metadata": {"name": "x"}}`, []int{0}, nil},
		{"syntax error after a good document", "kind: A\n---\nkind: [\n", []int{0}, []string{"f.yaml:3:7: invalid YAML"}},
		{"not an object", "kind: A\n---\n- 1\n- 2\n", []int{0}, []string{"f.yaml:3:1: document 1 is not an object"}},
		{"scalar keys become strings", "1: a\ntrue: b\n", []int{0}, nil},
		{"complex key", "? [a]\n: b\n", nil, []string{"f.yaml:1:1: yaml: invalid map key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			docs, errs := Parse("f.yaml", []byte(tc.src))
			var got []int
			for _, d := range docs {
				got = append(got, d.Index)
			}
			if len(got) != len(tc.indices) {
				t.Fatalf("indices = %v, want %v (errs %v)", got, tc.indices, errs)
			}
			for i := range got {
				if got[i] != tc.indices[i] {
					t.Errorf("indices = %v, want %v", got, tc.indices)
				}
			}
			for i, w := range tc.errs {
				if i >= len(errs) || !strings.HasPrefix(errs[i].Error(), w) {
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
	if c["date"] != "2024-01-01" || fmt.Sprint(c["big"]) != "12345678901234567890" {
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
	must(filepath.Join(dir, "b/pod.yaml"), "kind: Pod\nmetadata: {name: p, namespace: ns}\n")
	must(filepath.Join(dir, "a.json"), `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"object":{"kind":"Pod","metadata":{"name":"r","namespace":"n2"}}}}`)
	must(filepath.Join(dir, "notes.txt"), "not read")
	must(filepath.Join(dir, ".hidden/x.yaml"), "kind: [")
	docs, err := Read([]string{dir}, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
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
