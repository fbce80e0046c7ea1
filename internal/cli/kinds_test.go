package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 13 item 4: every command that loads a charter refuses a kind no
// object can have, with the same positioned error; declared custom kinds
// are accepted and keep their scope in namespace defaulting.
func TestKindsCheckedEverywhere(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.yaml", header+"  - {id: A, title: x, match: {kinds: [Pods]}, violation: {path: object.a, op: exists}, message: m}\n")
	want := bad + `:6:39: article A: match.kinds: unknown kind "Pods"; did you mean Pod (v1)?`
	widget := "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 5}\n"
	manifest := write("widget.yaml", widget)
	custom := func(name string, namespaced bool) string {
		return write(name, "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: w}\nspec:\n"+
			"  customKinds:\n  - {group: example.com, version: v1, kind: Widget, namespaced: "+map[bool]string{true: "true", false: "false"}[namespaced]+"}\n"+
			"  articles:\n  - {id: W, title: x, match: {kinds: [Widget], namespaces: [default]}, violation: {path: object.spec.size, op: gt, value: 3}, message: big}\n")
	}
	namespaced, clusterScoped := custom("namespaced.yaml", true), custom("cluster.yaml", false)
	undeclared := write("undeclared.yaml", header+"  - {id: W, title: x, match: {kinds: [Widget]}, violation: {path: object.spec.size, op: gt, value: 3}, message: big}\n")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"validate", []string{"validate", bad}, 2, "", want},
		{"build", []string{"build", "-o", filepath.Join(dir, "b.tar.gz"), bad}, 2, "", want},
		{"eval", []string{"eval", "--charter", bad, manifest}, 2, "", want},
		{"test", []string{"test", bad}, 2, "", want},
		{"an undeclared custom kind", []string{"validate", undeclared}, 2, "", `unknown kind "Widget" (not a built-in Kubernetes kind; declare a custom resource's kind in spec.customKinds)`},
		{"a namespaced custom kind is defaulted", []string{"eval", "--charter", namespaced, manifest}, 1, "DENY Widget default/w", ""},
		{"a cluster-scoped custom kind is not (so match.namespaces skips it)", []string{"eval", "--charter", clusterScoped, manifest}, 0, "SKIP Widget w", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\n(want %q)\nstderr:\n%s\n(want %q)", code, tc.code, stdout, tc.stdout, stderr, tc.stderr)
			}
		})
	}
}
