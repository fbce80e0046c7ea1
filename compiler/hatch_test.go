package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/charter"
)

func compileSource(t *testing.T, src string) (*Output, error) {
	t.Helper()
	c, err := charter.Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return Compile(c)
}

// hatchCharter is a charter with one raw Rego article; the body starts at
// line 10, column 7 (line 11 with a spec line).
func hatchCharter(spec, title, kinds, message, body string) string {
	return "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n" + spec +
		"  articles:\n  - id: H-1\n    title: " + title + "\n    match: {kinds: [" + kinds + "]}\n    rego: |\n" +
		indent(body, "      ") + "    message: " + message + "\n"
}

func indent(s, by string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(by + l + "\n")
	}
	return b.String()
}

// TestHatchReadsReferencesNotWords is the regression test of issue 7 item 7:
// raw Rego was analysed with regular expressions, so the word "pod" in a
// comment or a string made an article "read the pod", and "obj" in a title or
// message kept an unused assignment that strict mode rejects.
func TestHatchReadsReferencesNotWords(t *testing.T) {
	cases := []struct {
		name, title, kinds, message, body string
		wantErr                           string // empty: compiles
		wantHead                          string // the hatch function's head
	}{
		{name: "pod in a comment", title: "Config maps name an owner", kinds: "ConfigMap", message: "no owner",
			body: "# unlike the pod rules, this reads the config map only\nnot resource.metadata.annotations.owner", wantHead: "hatch(resource, _, _)"},
		{name: "pod in a string", title: "No pod names", kinds: "ConfigMap", message: "mentions a pod",
			body: `contains(resource.data.text, "pod")`, wantHead: "hatch(resource, _, _)"},
		{name: "pod as a key of data", title: "t", kinds: "ConfigMap", message: "m",
			body: `data.settings.pod == resource.metadata.name`, wantHead: "hatch(resource, _, _)"},
		{name: "obj in the title and message", title: "obj stays obj", kinds: "ConfigMap", message: `"an obj named {{object.metadata.name}}"`,
			body: `resource.metadata.name == "obj"`, wantHead: "hatch(resource, _, _)"},
		{name: "obj in a comment of a body that reads nothing", title: "obj", kinds: "ConfigMap", message: "obj",
			body: "# obj obj\ninput.request.operation == \"DELETE\"", wantHead: "hatch(_, _, _)"},
		{name: "a real pod reference", title: "t", kinds: "Pod", message: "m",
			body: `pod.spec.hostIPC == true`, wantHead: "hatch(_, pod, _)"},
		{name: "pod passed to a function", title: "t", kinds: "Pod", message: "m",
			body: `object.get(pod, ["spec", "hostIPC"], false)`, wantHead: "hatch(_, pod, _)"},
		{name: "a real pod reference with a kind that has none", title: "t", kinds: "Pod, ConfigMap", message: "m",
			body: `pod.spec.hostIPC == true`, wantErr: "c.yaml:6:5: article H-1: reads the pod (pod paths, containers or volumes) but match.kinds also names ConfigMap"},
		{name: "a parse error is positioned in the charter", title: "t", kinds: "Pod", message: "m",
			body: "count(pod.spec.containers) > 0\npod.spec == )", wantErr: "c.yaml:11:19: rego: unexpected"},
		{name: "a strict-mode error is positioned in the charter", title: "t", kinds: "Pod", message: "m",
			body: "count(pod.spec.containers) > 0\nunused := 1", wantErr: "c.yaml:11:7: rego: assigned var unused unused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := compileSource(t, hatchCharter("", tc.title, tc.kinds, tc.message, tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			src := out.Modules["charter/articles/h_1.rego"]
			if !strings.Contains(src, tc.wantHead+" if {") {
				t.Fatalf("want %s in\n%s", tc.wantHead, src)
			}
		})
	}
}

// TestRestrictedBuiltins is the regression test of issue 7 item 6: raw Rego
// could call http.send, net.lookup_ip_addr or opa.runtime inside the webhook.
func TestRestrictedBuiltins(t *testing.T) {
	allow := func(names ...string) string {
		return "  regoCapabilities: {allow: [" + strings.Join(names, ", ") + "]}\n"
	}
	cases := []struct {
		name, spec, body string
		want             []string // errors; none: compiles
	}{
		{"http.send", "", `http.send({"method": "GET", "url": "http://169.254.169.254/latest/meta-data/"}).status_code == 200`,
			[]string{"c.yaml:10:7: rego: article H-1 calls http.send, which raw Rego may not call by default (network, host or randomness); if this charter must, add it to spec.regoCapabilities.allow"}},
		{"net.lookup_ip_addr in an assignment", "", "ips := net.lookup_ip_addr(resource.spec.externalName)\ncount(ips) > 0",
			[]string{"c.yaml:10:14: rego: article H-1 calls net.lookup_ip_addr"}},
		{"opa.runtime in a comprehension", "", "env := [k | some k, _ in opa.runtime().env]\ncount(env) > 0",
			[]string{"c.yaml:10:32: rego: article H-1 calls opa.runtime"}},
		{"randomness", "", "rand.intn(\"x\", 10) == 0\nuuid.rfc4122(\"x\") != \"\"",
			[]string{"c.yaml:10:7: rego: article H-1 calls rand.intn", "c.yaml:11:7: rego: article H-1 calls uuid.rfc4122"}},
		{"json schema with remote references", "", `not json.match_schema(resource, {"$ref": "http://example.com/s.json"})[0]`,
			[]string{"c.yaml:10:11: rego: article H-1 calls json.match_schema"}},
		{"allowed by the charter", allow("http.send"), `http.send({"method": "GET", "url": "https://policy.example.com/"}).status_code != 200`, nil},
		{"allowing one does not allow another", allow("http.send"), `count(net.lookup_ip_addr("example.com")) == 0`,
			[]string{"c.yaml:11:13: rego: article H-1 calls net.lookup_ip_addr"}},
		{"unknown name in allow", allow("http.sendd", "opa.runtime"), `resource.metadata.name == "x"`,
			[]string{`c.yaml:5:30: regoCapabilities.allow: "http.sendd" is not an OPA builtin (restricted ones: http.send, `}},
		{"the clock is allowed", "", `time.now_ns() > time.parse_rfc3339_ns(resource.metadata.annotations.expires)`, nil},
		{"pure network arithmetic is allowed", "", `net.cidr_contains("10.0.0.0/8", resource.spec.clusterIP)`, nil},
		{"http.send as a with value", "", "x := json.marshal(resource) with json.marshal as http.send\nx != \"\"",
			[]string{"c.yaml:10:56: rego: article H-1 refers to http.send (in a with or as a value"}},
		{"http.send as a with target", "", "x := json.marshal(resource) with http.send as json.marshal\nx != \"\"",
			[]string{"c.yaml:10:40: rego: article H-1 refers to http.send (in a with or as a value"}},
		{"net.lookup_ip_addr as a with value", "", "x := json.marshal(resource.spec.externalName) with json.marshal as net.lookup_ip_addr\ncount(x) > 0",
			[]string{"c.yaml:10:74: rego: article H-1 refers to net.lookup_ip_addr"}},
		{"a with value in a comprehension", "", "xs := [x | some n in resource.spec.ports; x := json.marshal(n) with json.marshal as opa.runtime]\ncount(xs) > 0",
			[]string{"c.yaml:10:91: rego: article H-1 refers to opa.runtime"}},
		{"a with value in a nested comprehension", "", "xs := {k: v | some k in [1]; v := [y | y := json.marshal(k) with json.marshal as rand.intn]}\ncount(xs) > 0",
			[]string{"c.yaml:10:88: rego: article H-1 refers to rand.intn"}},
		{"a with value allowed by the charter", allow("http.send"), "x := json.marshal(resource) with json.marshal as http.send\nx != \"\"", nil},
		{"a pure builtin as a with value is allowed", "", "x := json.marshal(resource) with json.marshal as base64.encode\nx != \"\"", nil},
		{"data outside data.charter may be read", "", "data.settings.owner == resource.metadata.name", nil},
		{"data.charter.lib may be called", "", `data.charter.lib.join("a", resource.metadata.name) != ""`, nil},
		{"a comment naming http.send is no call", "", "# never http.send(x) here\nresource.metadata.name == \"x\"", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileSource(t, hatchCharter(tc.spec, "t", "Service", "m", tc.body))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("compiled")
			}
			list := err.(charter.ErrorList)
			if len(list) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(list), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(list[i].Error(), w) {
					t.Errorf("error %d:\n got %s\nwant %s...", i, list[i], w)
				}
			}
		})
	}
}

// httpBase is a charter whose raw Rego article H-1 may call http.send.
var httpBase = hatchCharter("  regoCapabilities: {allow: [http.send]}\n", "t", "Service", "m", `http.send({"method": "GET", "url": "https://x"}).status_code != 200`)

// includingBase is a charter that includes base.yaml and has one raw Rego
// article, H-2, with body.
func includingBase(body string) string {
	return strings.Replace(hatchCharter("  include: [base.yaml]\n", "t", "Service", "m", body), "H-1", "H-2", 1)
}

// writeAndCompile writes src to dir/name and compiles the charter there.
func writeAndCompile(t *testing.T, dir, name, src string) (*Output, error) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := charter.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return Compile(c)
}

// wantOneError fails the test unless err is a single charter error saying want.
func wantOneError(t *testing.T, err error, want string) {
	t.Helper()
	list, _ := err.(charter.ErrorList)
	if len(list) != 1 || !strings.Contains(list[0].Error(), want) {
		t.Fatalf("got %v\nwant one error %q", err, want)
	}
}

// TestRegoCapabilitiesArePerCharter: an included charter's allowance covers
// its own articles only, and the bundle records the union for the engine.
func TestRegoCapabilitiesArePerCharter(t *testing.T) {
	dir := t.TempDir()
	out, err := writeAndCompile(t, dir, "base.yaml", httpBase)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(out.Info.AllowedBuiltins, ","); got != "http.send" {
		t.Fatalf("info.allowedBuiltins = %q", got)
	}
	_, err = writeAndCompile(t, dir, "top.yaml", includingBase(`http.send({"method": "GET", "url": "https://y"}).status_code != 200`))
	if err == nil || !strings.Contains(err.Error(), "top.yaml:11:7: rego: article H-2 calls http.send") || strings.Contains(err.Error(), "H-1") {
		t.Fatalf("want only H-2 refused, got %v", err)
	}
}

// TestRegoCapabilitiesWithBypass is the regression test of the reviewer's
// bypass of issue 7 item 6: base.yaml allows http.send, team.yaml includes it
// and has raw Rego that reaches http.send through a with value; validate
// said ok and eval sent the request.
func TestRegoCapabilitiesWithBypass(t *testing.T) {
	dir := t.TempDir()
	if _, err := writeAndCompile(t, dir, "base.yaml", httpBase); err != nil {
		t.Fatal(err)
	}
	body := "req := {\"method\": \"GET\", \"url\": \"http://127.0.0.1:9/\"}\nx := json.marshal(req) with json.marshal as http.send\nx.status_code == 200"
	_, err := writeAndCompile(t, dir, "team.yaml", includingBase(body))
	if err == nil {
		t.Fatal("team.yaml compiled: its raw Rego reaches http.send that only base.yaml allows")
	}
	wantOneError(t, err, "team.yaml:12:51: rego: article H-2 refers to http.send (in a with or as a value")

	// The same reach through base.yaml's own article: calling its hatch
	// function or reading its findings evaluates its http.send.
	cases := []struct{ name, body, want string }{
		{"another article's function", "data.charter.articles.h_1.hatch(resource, resource, resource)", "team.yaml:11:7: rego: article H-2 reads data.charter.articles.h_1.hatch"},
		{"another article's findings", "count(data.charter.articles.h_1.findings) > 0", "team.yaml:11:13: rego: article H-2 reads data.charter.articles.h_1.findings"},
		{"the decision", "x := data.charter\ncount(x) > 0", "team.yaml:11:12: rego: article H-2 reads data.charter:"},
		{"data as a whole", "x := data\ncount(x) > 0", "team.yaml:11:12: rego: article H-2 reads data:"},
		{"data under a variable key", "y := \"charter\"\ncount(data[y]) > 0", "team.yaml:12:13: rego: article H-2 reads data[y]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := writeAndCompile(t, dir, "team.yaml", includingBase(tc.body))
			if err == nil {
				t.Fatal("compiled")
			}
			wantOneError(t, err, tc.want)
		})
	}
}
