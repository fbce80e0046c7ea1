package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// grammarRegressions are minimized cases the grammar differential found: each
// charter must build, and native and OPA must decide each input the same.
var grammarRegressions = []struct {
	name     string
	articles string // spec.articles, indented by four spaces
	inputs   []string
	findings int // findings over all inputs, as OPA gives them
}{
	{
		// The compiled `obj == "x"` is unification: it narrowed obj to a
		// string for the whole body, and OPA's type checker rejected the
		// sibling leaf (undefined ref: obj.a.b[...]): a charter that
		// validates did not compile.
		name: "a test of the bare object root next to a field of it",
		articles: `
    - id: R-1
      title: t
      match: {kinds: ["*"], operations: ["*"]}
      violation:
        all:
        - {path: object, op: in, value: ["x"]}
        - {path: "object.a.b[*]", op: equals, value: false}
      message: "{{field}} {{value}} {{object.metadata.name}}"
    - id: R-2
      title: t
      match: {kinds: ["*"], operations: ["*"]}
      violation:
        all:
        - any:
          - {path: object, op: equals, value: "x"}
          - {path: object, op: equals, value: {a: {b: [true]}}}
        - {path: "object.a.b[*]", op: equals, value: true}
      message: "{{field}} {{value}}"`,
		inputs: []string{
			`{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"operation": "DELETE", "oldObject": "x"}}`,
			`{"a": {"b": [true]}}`,
			`{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}`,
		},
		findings: 1,
	},
}

func TestGrammarRegressions(t *testing.T) {
	for _, tc := range grammarRegressions {
		t.Run(tc.name, func(t *testing.T) {
			src := "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: regression}\nspec:\n  articles:" + tc.articles + "\n"
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			p := grammarPair{src: src}
			p.native, p.opa = pair(t, path)
			total := 0
			for i, js := range tc.inputs {
				var in map[string]any
				if err := json.Unmarshal([]byte(js), &in); err != nil {
					t.Fatalf("input %d: %v", i, err)
				}
				n, _ := p.compare(t, "input "+js, in)
				total += n
			}
			if total != tc.findings {
				t.Errorf("%d findings, want %d", total, tc.findings)
			}
		})
	}
}
