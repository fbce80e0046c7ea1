package charter

import (
	"strings"
	"testing"
)

func TestPodTemplates(t *testing.T) {
	head := "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: c}\nspec:\n  podTemplates:\n"
	cases := []struct {
		name, entries, err string
	}{
		{"valid", "  - {apiGroup: argoproj.io, kind: Rollout, path: spec.template}\n  - {kind: CloneSet, path: spec.template}\n", ""},
		{"built-in kind", "  - {apiGroup: apps, kind: Deployment, path: spec.template}\n", "c.yaml:6:3: Deployment is a built-in kind"},
		{"twice", "  - {kind: R, path: spec.a}\n  - {kind: R, path: spec.b}\n", "c.yaml:6:3: pod template for R (any group) is declared twice"},
		{"no path", "  - {kind: R}\n", "c.yaml:6:5: spec.podTemplates entry is missing required field \"path\""},
		{"index step", "  - {kind: R, path: 'spec.templates[0]'}\n", "c.yaml:6:5: pod template path \"spec.templates[0]\" of R: each step is a plain field name"},
		{"unknown field", "  - {kind: R, path: spec.template, group: x}\n", "unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(head+tc.entries+"  articles: []\n"))
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				tab, err := c.PodTemplateTable()
				if err != nil {
					t.Fatal(err)
				}
				if p, ok := tab.Lookup("argoproj.io", "Rollout"); !ok || strings.Join(p, ".") != "spec.template" {
					t.Errorf("Rollout at %v %v", p, ok)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestMergePodTemplates(t *testing.T) {
	a := []PodTemplate{{Kind: "R", Path: "spec.template"}}
	same, err := mergePodTemplates(a, []PodTemplate{{Kind: "R", Path: "spec.template"}, {APIGroup: "x.io", Kind: "S", Path: "spec.t"}})
	if err != nil || len(same) != 2 {
		t.Fatalf("merge = %v, %v", same, err)
	}
	if _, err := mergePodTemplates(a, []PodTemplate{{Kind: "R", Path: "spec.other"}}); err == nil || !strings.Contains(err.Error(), `pod template of R is at "spec.template" here and at "spec.other"`) {
		t.Errorf("conflict err = %v", err)
	}
}
