package podtemplate

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tab, err := New([]Template{
		{APIGroup: "argoproj.io", Kind: "Rollout", Path: []string{"spec", "template"}},
		{APIGroup: AnyGroup, Kind: "CloneSet", Path: []string{"spec", "template"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		group, kind string
		path        string
		ok          bool
	}{
		{"", "Pod", "", true},
		{"apps", "Deployment", "spec.template", true},
		{"batch", "CronJob", "spec.jobTemplate.spec.template", true},
		{"example.com", "Deployment", "", false},
		{"argoproj.io", "Rollout", "spec.template", true},
		{"other.io", "Rollout", "", false},
		{"apps.kruise.io", "CloneSet", "spec.template", true},
		{"", "ConfigMap", "", false},
	}
	for _, c := range cases {
		p, ok := tab.Lookup(c.group, c.kind)
		if ok != c.ok || strings.Join(p, ".") != c.path {
			t.Errorf("Lookup(%q, %q) = %v %v, want %q %v", c.group, c.kind, p, ok, c.path, c.ok)
		}
	}
	if !tab.HasKind("Rollout") || !tab.HasKind("CronJob") || tab.HasKind("Service") {
		t.Error("HasKind")
	}
	if len(tab.Extra()) != 2 || len(tab.Templates()) != len(builtin)+2 {
		t.Errorf("Extra = %v", tab.Extra())
	}
}

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name  string
		extra []Template
		want  string
	}{
		{"built-in kind", []Template{{APIGroup: "example.com", Kind: "Deployment", Path: []string{"spec", "template"}}}, "built-in kind"},
		{"twice", []Template{{APIGroup: "a.io", Kind: "R", Path: []string{"spec"}}, {APIGroup: "a.io", Kind: "R", Path: []string{"x"}}}, "declared twice"},
		{"no kind", []Template{{Path: []string{"spec"}}}, "needs a kind"},
		{"no path", []Template{{Kind: "R"}}, "needs a path"},
		{"bad step", []Template{{Kind: "R", Path: []string{"spec", "tem[0]"}}}, "plain field name"},
	}
	for _, c := range cases {
		if _, err := New(c.extra); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}
