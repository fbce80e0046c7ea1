package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

const privilegedPod = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - {name: app, image: nginx, securityContext: {privileged: true}}
`

const charterFile = "../../engine/testdata/charter.yaml"

const header = "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  articles:\n"

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	syntax := write("syntax.yaml", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: x\n")
	unknown := write("unknown.yaml", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: x}\nspec: {articels: []}\n")
	okPod := write("ok.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: ok, namespace: default}\nspec:\n  containers: [{name: a, image: x, resources: {limits: {memory: 1Mi}}}]\n")
	badManifest := write("bad.yaml", "kind: Pod\nmetadata: [\n")
	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"validate ok", "", []string{"validate", charterFile}, 0, ""},
		{"validate yaml syntax error", "", []string{"validate", syntax}, 2, syntax + ":3:11: invalid YAML"},
		{"validate unknown field", "", []string{"validate", unknown}, 2, unknown + `:4:8: unknown field "articels" in spec`},
		{"validate missing file", "", []string{"validate", filepath.Join(dir, "nope.yaml")}, 2, "no such file"},
		{"eval allowed", "", []string{"eval", "--charter", charterFile, okPod}, 0, ""},
		{"eval denied from stdin", privilegedPod, []string{"eval", "--charter", charterFile, "-"}, 1, ""},
		{"eval bad manifest", "", []string{"eval", "--charter", charterFile, badManifest}, 2, badManifest + ":2:11"},
		{"eval no policy", "", []string{"eval", okPod}, 2, "give exactly one of --charter or --bundle"},
		{"eval unknown output", "", []string{"eval", "--charter", charterFile, "-o", "xml", okPod}, 2, `unknown output "xml"`},
		{"unknown flag", "", []string{"eval", "--nope"}, 2, "unknown flag"},
		{"unknown command", "", []string{"frobnicate"}, 2, "unknown command"},
		{"test bad regex", "", []string{"test", "--run", "(", charterFile}, 2, "--run"},
		{"eval nothing to evaluate", "# only a comment\n", []string{"eval", "--charter", charterFile, "-"}, 2, "no Kubernetes objects found"},
		{"charter with NaN", "", []string{"validate", write("nan.yaml", header+"  - {id: A, title: x, match: {kinds: [Pod]}, violation: {path: object.a, op: equals, value: .nan}, message: m}\n")}, 2, "must be a finite number"},
		{"package collision", "", []string{"validate", write("collide.yaml", header+"  - {id: AD-1, title: x, match: {kinds: [Pod]}, violation: {path: object.a, op: exists}, message: m}\n  - {id: ad_1, title: y, match: {kinds: [Pod]}, violation: {path: object.a, op: exists}, message: m}\n")}, 2, "both compile to package charter.articles.ad_1"},
		{"pod reads with a podless kind", "", []string{"validate", write("mixed.yaml", header+"  - {id: A, title: x, match: {kinds: [Pod, Service]}, foreach: containers, violation: {path: container.a, op: exists}, message: m}\n")}, 2, "match.kinds also names Service"},
		// issue 7 items 1, 6, 7 and 10, end to end
		{"bad namespace glob", "", []string{"validate", write("glob.yaml", header+"  - {id: A, title: x, match: {kinds: [Pod], namespaces: [\"team-[ab\"]}, violation: {path: object.a, op: exists}, message: m}\n")}, 2, `glob.yaml:6:58: match.namespaces: bad glob "team-[ab"`},
		{"raw rego calling http.send", "", []string{"validate", write("send.yaml", header+"  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    rego: |\n      http.send({\"method\": \"GET\", \"url\": \"http://169.254.169.254/\"}).status_code == 200\n    message: m\n")}, 2, "send.yaml:10:7: rego: article A calls http.send"},
		{"raw rego mentioning the pod in a comment", "", []string{"validate", write("comment.yaml", header+"  - id: A\n    title: the obj\n    match: {kinds: [ConfigMap]}\n    rego: |\n      # unlike the pod rules\n      resource.data.x == \"y\"\n    message: obj\n")}, 0, ""},
		{"a 500n limit is over 100n", "", []string{"eval", "--charter", write("cpu.yaml", header+"  - {id: A, title: x, match: {kinds: [Pod]}, foreach: containers, violation: {path: container.resources.limits.cpu, op: gt, value: 100n}, message: m}\n"),
			write("nano.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers: [{name: a, image: x, resources: {limits: {cpu: 500n}}}]\n")}, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr:\n%s", stderr)
			}
		})
	}
}

func TestEvalJSONShape(t *testing.T) {
	code, out, stderr := run(t, privilegedPod+"---\n"+privilegedPod, "eval", "--charter", charterFile, "-o", "json", "-")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	results := doc["results"]
	if len(results) != 2 {
		t.Fatalf("results = %d", len(results))
	}
	wantKeys := "allowed,articlesApplied,file,index,kind,line,name,namespace,violations"
	if got := keys(results[0]); got != wantKeys {
		t.Errorf("result keys = %s, want %s", got, wantKeys)
	}
	if results[1]["index"] != float64(1) || results[0]["file"] != "<stdin>" || results[0]["allowed"] != false {
		t.Errorf("results = %v", results)
	}
	v := results[0]["violations"].([]any)[0].(map[string]any)
	if got := keys(v); got != "action,article,column,line,message,path,severity" {
		t.Errorf("violation keys = %s", got)
	}
	if v["article"] != "AD-001" || v["action"] != "deny" {
		t.Errorf("violation = %v", v)
	}
}

func keys(m map[string]any) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return strings.Join(out, ",")
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func TestBuildDeterministicAndEvalBundle(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.tar.gz"), filepath.Join(dir, "b.tar.gz")
	for _, p := range []string{a, b} {
		if code, _, stderr := run(t, "", "build", "-o", p, charterFile); code != 0 {
			t.Fatalf("build: %d %s", code, stderr)
		}
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) || len(da) == 0 {
		t.Fatal("builds differ")
	}
	if code, out, _ := run(t, privilegedPod, "eval", "--bundle", a, "-"); code != 1 || !strings.Contains(out, "AD-001") {
		t.Errorf("eval --bundle: %d\n%s", code, out)
	}
	if code, _, stderr := run(t, "", "build", "--format", "dir", "-o", filepath.Join(dir, "d"), charterFile); code != 0 {
		t.Fatalf("build dir: %s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "d", ".manifest")); err != nil {
		t.Error(err)
	}
}

func TestTestCommand(t *testing.T) {
	code, out, stderr := run(t, "", "test", "../../policies/anti-delos.yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, " passed, 0 failed") {
		t.Errorf("last line = %q", last)
	}
	code, out, _ = run(t, "", "test", "--run", "^AD-001/", "../../policies/anti-delos.yaml")
	if code != 0 || strings.Contains(out, "AD-002") || !strings.Contains(out, "AD-001") {
		t.Errorf("--run: %d\n%s", code, out)
	}
}

func TestTestCommandReportsFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	src := "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  articles:\n  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: pod.spec.hostNetwork, op: equals, value: true}\n    message: host network\n    tests:\n    - {name: wrong expectation, object: {apiVersion: v1, kind: Pod, spec: {hostNetwork: true}}, expect: allow}\n    - {name: right, object: {apiVersion: v1, kind: Pod, spec: {hostNetwork: true}}, expect: deny}\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "", "test", p)
	if code != 1 || !strings.Contains(out, "FAIL A/wrong expectation") || !strings.Contains(out, p+":12:7") || !strings.HasSuffix(strings.TrimSpace(out), "1 passed, 1 failed") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestBuildWithTests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "b")
	if code, _, stderr := run(t, "", "build", "--tests", "--format", "dir", "-o", dir, "../../policies/anti-delos.yaml"); code != 0 {
		t.Fatalf("build --tests: %s", stderr)
	}
	src, err := os.ReadFile(filepath.Join(dir, "charter", "tests", "ad_001_test.rego"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "package charter.articles.ad_001_test") || !strings.Contains(string(src), "with input as") {
		t.Errorf("test module:\n%s", src)
	}
}
