package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 13 item 6: eval --explain says per object and article why it fired,
// passed or was skipped; an object no article applies to is SKIP, not PASS.
func TestEvalExplain(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ch := write("c.yaml", header+
		"  - {id: A, title: no host network, match: {kinds: [Pod], excludeNamespaces: [sys]}, violation: {path: object.spec.hostNetwork, op: equals, value: true}, message: host}\n"+
		"  - {id: B, title: no nodeport, action: warn, match: {kinds: [Service], operations: [UPDATE]}, violation: {path: object.spec.type, op: equals, value: NodePort}, message: np}\n")
	host := write("host.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: h}\nspec: {hostNetwork: true}\n")
	plain := write("plain.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {hostNetwork: false}\n")
	cm := write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: s, namespace: sys}\nspec: {hostNetwork: true}\n")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"fired, with the condition and the value seen", []string{"eval", "--explain", "--charter", ch, host}, 1, []string{
			"DENY Pod default/h (" + host + "#0)",
			`    FIRED A (deny) no host network: matched kind Pod, operation CREATE, namespace "default"`,
			"          at the object:\n            true: object.spec.hostNetwork equals true; seen: spec.hostNetwork = true",
			"          finding: host at spec.hostNetwork",
			"    SKIP  B (warn) no nodeport: kind Pod is not matched (match.kinds: Service)",
			"1 objects: 0 allowed, 1 denied, 0 skipped"}, ""},
		{"passed, with the false condition", []string{"eval", "--explain", "--charter", ch, plain}, 0, []string{
			"PASS Pod shop/p", "    PASS  A (deny) no host network: matched", "            false: object.spec.hostNetwork equals true; seen: spec.hostNetwork = false"}, ""},
		{"objects no article applies to are skipped", []string{"eval", "--explain", "--charter", ch, cm}, 0, []string{
			"SKIP ConfigMap default/c", "SKIP Pod sys/s", `    SKIP  A (deny) no host network: namespace "sys" is excluded (match.excludeNamespaces: sys)`,
			"2 objects: 2 allowed, 0 denied, 2 skipped (no article applies)"}, ""},
		{"text only", []string{"eval", "--explain", "-o", "json", "--charter", ch, host}, 2, nil, "--explain prints text"},
		// review finding: plain eval said PASS where --explain says SKIP
		{"plain eval skips what explain skips", []string{"eval", "--charter", ch, cm, plain}, 0, []string{
			"SKIP ConfigMap default/c (" + cm + "#0)\nSKIP Pod sys/s (" + cm + "#1)\nPASS Pod shop/p (" + plain + "#0)\n",
			"3 objects: 3 allowed, 0 denied, 0 warnings, 2 skipped (no article applies)\n"}, ""},
		{"plain eval denies as before", []string{"eval", "--charter", ch, host}, 1, []string{"DENY Pod default/h", "1 objects: 0 allowed, 1 denied, 0 warnings, 0 skipped (no article applies)\n"}, ""},
		{"json says how many articles applied", []string{"eval", "-o", "json", "--charter", ch, cm, plain}, 0, []string{
			`"name": "c",
      "allowed": true,
      "violations": [],
      "articlesApplied": 0`, `"name": "p",
      "allowed": true,
      "violations": [],
      "articlesApplied": 1`}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)\nstdout:\n%s", code, tc.code, stderr, tc.stderr, stdout)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, stdout)
				}
			}
		})
	}
}
