package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 13 item 7: validate and test, one charter per file, every error at once.
func TestValidateAndTestErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	article := "  - {id: A, title: x, match: {kinds: [Pod]}, violation: {path: object.spec.hostNetwork, op: equals, value: true}, message: m%s}\n"
	pods := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {hostNetwork: true}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {}\n"
	write("pods.yaml", pods)
	independent := filepath.Join(dir, "independent")
	write("independent/one.yaml", strings.Replace(header, "name: t", "name: one", 1)+strings.Replace(article, "%s", "", 1))
	write("independent/two.yaml", strings.Replace(header, "name: t", "name: two", 1)+strings.Replace(article, "%s", "", 1))
	phases := write("phases.yaml", header+
		"  - {id: A, title: x, match: {kinds: [Pod]}, violation: {path: object.a, op: equalz, value: 1}, message: m}\n"+
		"  - id: B\n    title: y\n    match: {kinds: [Pod]}\n    rego: |\n      http.send({\"method\": \"GET\", \"url\": \"http://x/\"}).status_code == 200\n    message: m\n")
	bad1 := write("bad/1.yaml", header+"  - {id: A, title: x, match: {kinds: [Pod]}, violation: {path: object.a, op: nope}, message: m}\n")
	bad2 := write("bad/2.yaml", header+"  - {id: A, title: x, match: {kinds: [Pod]}, violation: {path: object.a, op: exists}}\n")
	noTests := write("notests.yaml", header+strings.Replace(article, "%s", "", 1))
	missing := write("missing.yaml", header+strings.Replace(article, "%s", ", tests: [{name: t, file: nope.yaml, expect: deny}]", 1))
	perDoc := write("perdoc.yaml", header+strings.Replace(article, "%s", ", tests: [{name: t, file: pods.yaml, expect: [deny, allow]}]", 1))
	wrongCount := write("wrongcount.yaml", header+strings.Replace(article, "%s", ", tests: [{name: t, file: pods.yaml, expect: [deny]}]", 1))
	wrongDoc := write("wrongdoc.yaml", header+strings.Replace(article, "%s", ", tests: [{name: t, file: pods.yaml, expect: [allow, deny]}]", 1))
	listForObject := write("listobject.yaml", header+strings.Replace(article, "%s", ", tests: [{name: t, object: {kind: Pod}, expect: [deny, allow]}]", 1))

	shopOnly := write("shoponly.yaml", header+"  - {id: A, title: x, match: {kinds: [Pod], namespaces: [shop]}, violation: {path: object.spec.hostNetwork, op: equals, value: true}, message: m}\n")
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"independent charters are not merged", []string{"validate", independent}, 0,
			[]string{"one.yaml: one: 1 articles", "two.yaml: two: 1 articles"}, nil},
		{"every phase at once", []string{"validate", phases}, 2, nil,
			[]string{phases + `:6:78: operator "equalz"`, phases + ":11:7: rego: article B calls http.send"}},
		{"every file at once", []string{"validate", filepath.Join(dir, "bad")}, 2, nil,
			[]string{bad1 + `:6:78: operator "nope"`, bad2 + `:6:5: article A is missing required field "message"`}},
		{"a test file that does not exist", []string{"validate", missing}, 2, nil,
			[]string{missing + `:6:151: test "t": file ` + filepath.Join(dir, "nope.yaml") + ": stat: no such file or directory"}},
		{"a charter without tests", []string{"test", noTests}, 0, []string{noTests + ": no tests in charter t", "0 passed, 0 failed"}, nil},
		{"--run matching nothing", []string{"test", "--run", "zzz", perDoc}, 2, nil, []string{"no tests matched --run"}},
		{"one expectation per document", []string{"test", perDoc}, 0, []string{"PASS A/t", "1 passed, 0 failed"}, nil},
		{"expectations fewer than documents", []string{"test", wrongCount}, 1, []string{"expect lists 1 expectations but " + filepath.Join(dir, "pods.yaml") + " holds 2 documents"}, nil},
		{"an expectation per document is checked per document", []string{"test", wrongDoc}, 1, []string{"object 0: expected allow, got deny"}, nil},
		{"a list of expectations for one object", []string{"validate", listForObject}, 2, nil, []string{`test "t" has one object but 2 expectations`}},
		{"a pod without a namespace is decided in --namespace", []string{"eval", "-n", "shop", "--charter", shopOnly, filepath.Join(dir, "pods.yaml")}, 1, []string{"shop"}, nil},
		{"a pod without a namespace is in default", []string{"eval", "--charter", shopOnly, filepath.Join(dir, "pods.yaml")}, 0, nil, nil},
		{"independent charters tested each on its own", []string{"test", independent}, 0, []string{"one.yaml: no tests in charter one", "two.yaml: no tests in charter two"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout %q does not contain %q", stdout, s)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q does not contain %q", stderr, s)
				}
			}
		})
	}
}
