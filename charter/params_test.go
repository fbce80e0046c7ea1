package charter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const paramTemplate = `apiVersion: charter.dev/v1
kind: Charter
metadata: {name: tpl}
spec:
  parameters:
  - {name: max, type: quantity, default: "1"}
  - {name: names, type: list}
  - {name: word, type: string, default: "5"}
  articles:
  - id: T-1
    title: t
    match: {kinds: [Pod], namespaces: [fixed]}
    foreach: containers
    violation:
      any:
      - {path: container.resources.limits.cpu, op: gt, param: max}
      - {path: container.name, op: in, param: names}
      - {path: container.image, op: gt, param: word}
    message: "{{params.max}} {{params.word}}"
`

// TestInstanceErrors: each way an instance can be wrong is reported at the
// instance's own file:line:col.
func TestInstanceErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tpl.yaml"), []byte(paramTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	head := "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: inst}\nspec:\n  instances:\n"
	for _, tc := range []struct{ name, src, want string }{
		{"wrong type", "  - {name: a, charter: tpl.yaml, parameters: {names: [x], max: lots}}\n",
			`inst.yaml:6:64: instance a: parameter max: lots is not a quantity (a number or a Kubernetes quantity like 500m or 1Gi)`},
		{"unknown parameter", "  - {name: a, charter: tpl.yaml, parameters: {names: [x], maxx: 2}}\n",
			`inst.yaml:6:65: instance a: unknown parameter "maxx" (the charter declares: max, names, word)`},
		{"missing required parameter", "  - {name: a, charter: tpl.yaml}\n",
			`inst.yaml:6:5: instance a: parameter names has no default; set it in parameters`},
		{"value the operator refuses", "  - {name: a, charter: tpl.yaml, parameters: {names: [x], word: lots}}\n",
			`inst.yaml:6:65: parameter word = lots, used by article T-1 at ` + filepath.Join(dir, "tpl.yaml") + `:18:48: operator gt: "lots" is neither a number nor a Kubernetes quantity`},
		{"namespaces twice", "  - {name: a, charter: tpl.yaml, namespaces: [b], parameters: {names: [x]}}\n",
			`inst.yaml:6:5: instance a: article T-1: the article limits match.namespaces already (fixed); the instance may not set namespaces`},
		{"test of an unknown article", "  - name: a\n    charter: tpl.yaml\n    parameters: {names: [x]}\n    tests:\n    - {article: T-1, name: n, expect: allow, object: {kind: Pod}}\n",
			`inst.yaml:10:7: instance a: test "n" names article "T-1", which the instance does not define (its articles: a.T-1)`},
		{"duplicate instance", "  - {name: a, charter: tpl.yaml, parameters: {names: [x]}}\n  - {name: a, charter: tpl.yaml, parameters: {names: [y]}}\n",
			`inst.yaml:7:5: duplicate instance "a" (first at `},
		{"missing charter", "  - {name: a, charter: nope.yaml}\n",
			`inst.yaml:6:5: open: no such file or directory`},
		{"bad instance name", "  - {name: 1a, charter: tpl.yaml, parameters: {names: [x]}}\n",
			`inst.yaml:6:12: instance name "1a" must be letters`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "inst.yaml")
			if err := os.WriteFile(path, []byte(head+tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatalf("no error, want %s", tc.want)
			}
			want := filepath.Join(dir, tc.want)
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, want)
			}
		})
	}
}

// TestTemplateErrors: parameter declarations and references are checked
// where they are written.
func TestTemplateErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"undeclared parameter", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: equals, param: nope}\n    message: m\n",
			`t.yaml:9:52: parameter "nope" is not declared: this charter has no spec.parameters`},
		{"undeclared placeholder", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: exists}\n    message: '{{params.nope}}'\n",
			`t.yaml:10:14: parameter "nope" is not declared`},
		{"unknown type", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  parameters: [{name: a, type: str}]\n",
			`t.yaml:5:32: parameter type "str" is not one of: string, integer, number, boolean, quantity, list, object`},
		{"default of the wrong type", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  parameters: [{name: a, type: integer, default: x}]\n",
			`t.yaml:5:50: parameter a: default x is not an integer`},
		{"duplicate parameter", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  parameters: [{name: a, type: list}, {name: a, type: list}]\n",
			`t.yaml:5:39: duplicate parameter "a"`},
		{"value and param", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: equals, value: 1, param: p}\n    message: m\n",
			`t.yaml:9:16: value, valuesFrom and param are exclusive`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

// TestInstances: one template, two instances with other values, scopes and
// actions, and the template by itself with its defaults.
func TestInstances(t *testing.T) {
	dir := t.TempDir()
	tpl := strings.Replace(paramTemplate, "  - {name: names, type: list}\n", "  - {name: names, type: list, default: [debug]}\n", 1)
	tpl = strings.Replace(tpl, ", namespaces: [fixed]", "", 1)
	if err := os.WriteFile(filepath.Join(dir, "tpl.yaml"), []byte(tpl), 0o644); err != nil {
		t.Fatal(err)
	}
	inst := "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: inst}\nspec:\n  instances:\n" +
		"  - {name: prod, charter: tpl.yaml, namespaces: [prod], parameters: {max: 4, word: '5'}}\n" +
		"  - {name: dev, charter: tpl.yaml, excludeNamespaces: [prod], action: warn, parameters: {names: [a, b]}}\n"
	path := filepath.Join(dir, "inst.yaml")
	if err := os.WriteFile(path, []byte(inst), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Spec.Articles) != 2 {
		t.Fatalf("%d articles, want 2", len(c.Spec.Articles))
	}
	prod, dev := c.Spec.Articles[0], c.Spec.Articles[1]
	if prod.ID != "prod.T-1" || dev.ID != "dev.T-1" {
		t.Fatalf("ids %s, %s", prod.ID, dev.ID)
	}
	leaf := func(a *Article, i int) any { return a.Violation.Any[i].Leaf.Value }
	if leaf(prod, 0) != int64(4) || leaf(dev, 0) != "1" || leaf(prod, 2) != "5" {
		t.Errorf("values: prod max %v word %v, dev max %v", leaf(prod, 0), leaf(prod, 2), leaf(dev, 0))
	}
	if strings.Join(prod.Match.Namespaces, ",") != "prod" || strings.Join(dev.Match.ExcludeNamespaces, ",") != "prod" || len(dev.Match.Namespaces) != 0 {
		t.Errorf("scopes: prod %v, dev %v excluding %v", prod.Match.Namespaces, dev.Match.Namespaces, dev.Match.ExcludeNamespaces)
	}
	if prod.Action != "deny" || dev.Action != "warn" {
		t.Errorf("actions: %s, %s", prod.Action, dev.Action)
	}
	if got := prod.Message.Parts[0].Text + prod.Message.Parts[1].Text + prod.Message.Parts[2].Text; got != "4 5" {
		t.Errorf("prod message %q", got)
	}
	self, err := Load(filepath.Join(dir, "tpl.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if a := self.Spec.Articles[0]; a.ID != "T-1" || a.Violation.Any[1].Leaf.Value.([]any)[0] != "debug" {
		t.Errorf("the template by itself: %s %v", a.ID, a.Violation.Any[1].Leaf.Value)
	}
}
