package charter

import (
	"os"
	"strings"
	"testing"
)

const header = "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  articles:\n"

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // each a full "file:line:col: message" prefix
	}{
		{"yaml syntax", header + "  - id: A\n    title: [unclosed\n", []string{"t.yaml:7:12: invalid YAML"}},
		{"unknown field", header + "  - id: A\n    titel: x\n    runtime: {exec: {deny: [/bin/sh]}}\n",
			[]string{`t.yaml:6:5: article is missing required field "title"`, `t.yaml:7:5: unknown field "titel" in article`}},
		{"unknown operator", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: bogus}\n    message: m\n",
			[]string{`t.yaml:9:37: operator "bogus" is not one of`}},
		{"bad regex", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: matches, value: '('}\n    message: m\n",
			[]string{"t.yaml:9:37: bad regular expression \"(\": missing closing )"}},
		{"bad quantity", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: gt, value: 1Gx}\n    message: m\n",
			[]string{`t.yaml:9:37: operator gt: "1Gx" is neither a number nor a Kubernetes quantity`}},
		{"bad namespace glob", header + "  - id: A\n    title: x\n    match: {kinds: [Pod], namespaces: [\"team-[ab\"]}\n    violation: {path: object.a, op: exists}\n    message: m\n",
			[]string{`t.yaml:8:40: match.namespaces: bad glob "team-[ab"`}},
		{"bad excluded namespace glob", header + "  - id: A\n    title: x\n    match: {kinds: [Pod], excludeNamespaces: [ok, \"{a,b\"]}\n    violation: {path: object.a, op: exists}\n    message: m\n",
			[]string{`t.yaml:8:51: match.excludeNamespaces: bad glob "{a,b"`}},
		{"bad scope glob", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  scope: {namespaces: [\"a-[\"], excludeNamespaces: [\"[z-\"]}\n",
			[]string{`t.yaml:5:24: scope.namespaces: bad glob "a-["`, `t.yaml:5:52: scope.excludeNamespaces: bad glob "[z-"`}},
		{"bad path glob", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: 'object.a[\"x-[*\"]', op: exists}\n    message: m\n",
			[]string{`t.yaml:9:23: path "object.a[\"x-[*\"]": bad glob "x-[*"`}},
		{"bad glob operand", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: glob, value: 'x[*'}\n    message: m\n",
			[]string{`t.yaml:9:37: bad glob "x[*"`}},
		{"bad label key", header + "  - id: A\n    title: x\n    match: {kinds: [Pod], labelSelector: {matchLabels: {\"a b\": x}}}\n    violation: {path: object.a, op: exists}\n    message: m\n",
			[]string{`t.yaml:8:57: matchLabels: key: Invalid value: "a b"`}},
		{"bad label value", header + "  - id: A\n    title: x\n    match: {kinds: [Pod], labelSelector: {matchExpressions: [{key: env, operator: In, values: [\"no way\"]}]}}\n    violation: {path: object.a, op: exists}\n    message: m\n",
			[]string{`t.yaml:8:62: matchExpressions: values[0][env]: Invalid value: "no way"`}},
		{"values on Exists", header + "  - id: A\n    title: x\n    match: {kinds: [Pod], labelSelector: {matchExpressions: [{key: env, operator: Exists, values: [a]}]}}\n    violation: {path: object.a, op: exists}\n    message: m\n",
			[]string{`t.yaml:8:62: matchExpressions: values: Invalid value: ["a"]: values set must be empty for exists and does not exist`}},
		{"duplicate id", header + "  - {id: A, title: x, runtime: {exec: {deny: [/bin/sh]}}}\n  - {id: A, title: y, runtime: {exec: {deny: [/bin/sh]}}}\n",
			[]string{`t.yaml:7:5: duplicate article id "A" (first defined at t.yaml:6:5)`}},
		{"wrong type", header + "  - id: A\n    title: x\n    match: {kinds: Pod}\n    violation: {path: object.a, op: exists}\n    message: m\n",
			[]string{"t.yaml:8:20: match.kinds must be a list of strings, not a scalar (str)"}},
		{"unknown root", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: container.a, op: exists}\n    message: m\n",
			[]string{`t.yaml:9:23: path container.a: unknown root "container"`}},
		{"missing value", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: in}\n    message: m\n",
			[]string{"t.yaml:9:37: operator in needs a value"}},
		{"value on exists", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: exists, value: 1}\n    message: m\n",
			[]string{"t.yaml:9:37: operator exists takes no value"}},
		{"valuesFrom with equals", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: equals, valuesFrom: object.b}\n    message: m\n",
			[]string{"t.yaml:9:37: valuesFrom goes with operator in or notIn, not equals"}},
		{"value and valuesFrom", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: in, value: [1], valuesFrom: object.b}\n    message: m\n",
			[]string{"t.yaml:9:16: value, valuesFrom and param are exclusive; use one"}},
		{"valuesFrom unknown root", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: in, valuesFrom: vol.name}\n    message: m\n",
			[]string{`t.yaml:9:53: path vol.name: unknown root "vol"`}},
		{"bad valuesFrom path", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: in, valuesFrom: 'object.[x'}\n    message: m\n",
			[]string{`t.yaml:9:53: path "object.[x": expected a field name`}},
		{"changed with a value", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: changed, value: 1}\n    message: m\n",
			[]string{"t.yaml:9:37: operator changed takes no value (it compares the object with the request's oldObject)"}},
		{"removed from the pod", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: 'pod.spec.volumes[*]', op: removed}\n    message: m\n",
			[]string{"t.yaml:9:50: operator removed compares object with oldObject: its path must start at object, not pod"}},
		{"foreach named oldObject", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    foreach: {path: object.a, as: oldObject}\n    violation: {path: object.a, op: exists}\n    message: m\n",
			[]string{`t.yaml:9:14: foreach name "oldObject" must be an identifier other than`}},
		{"cluster without op", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {cluster: {kind: Namespace}}\n    message: m\n",
			[]string{`t.yaml:9:16: cluster condition is missing required field "op" (exists or absent)`}},
		{"cluster where on the object", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {cluster: {kind: Namespace, where: [{path: object.a, op: exists}]}, op: exists}\n    message: m\n",
			[]string{"t.yaml:9:59: path object.a: a cluster.where leaf reads the candidate: its path starts at other"}},
		{"cluster where absent", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {cluster: {kind: Namespace, where: [{path: other.a, op: absent}]}, op: exists}\n    message: m\n",
			[]string{"t.yaml:9:52: cluster.where leaves take a value or valuesFrom and no operator absent"}},
		{"two forms", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {any: [{path: object.a, op: exists}], path: object.b}\n    message: m\n",
			[]string{"t.yaml:9:16: condition must have exactly one of any, all, not, path or cluster (found 2)"}},
		{"missing message", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: exists}\n",
			[]string{`t.yaml:6:5: article A is missing required field "message"`}},
		{"bad template", header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation: {path: object.a, op: exists}\n    message: 'x {{object.a[*]}}'\n",
			[]string{"t.yaml:10:14: {{object.a[*]}} may not use [*]"}},
		{"bad cidr", header + "  - id: A\n    title: x\n    runtime: {connect: {deny: [10.0.0.1/8]}}\n",
			[]string{`t.yaml:8:32: runtime.connect.deny: "10.0.0.1/8" has host bits set; did you mean 10.0.0.0/8?`}},
		{"relative exec path", header + "  - id: A\n    title: x\n    runtime: {exec: {deny: [sh]}}\n",
			[]string{`t.yaml:8:29: runtime.exec.deny: "sh" must be an absolute path`}},
		{"exec allow directory", header + "  - id: A\n    title: x\n    runtime: {exec: {allow: [/usr/bin/]}}\n",
			[]string{`t.yaml:8:30: runtime.exec.allow: "/usr/bin/" is a directory`}},
		{"exec allow loader", header + "  - id: A\n    title: x\n    runtime: {exec: {allow: [/app/run, /lib64/ld-linux-x86-64.so.2]}}\n",
			[]string{`t.yaml:8:40: runtime.exec.allow: "/lib64/ld-linux-x86-64.so.2" is the dynamic loader`}},
		{"exec denyFileless not a bool", header + "  - id: A\n    title: x\n    runtime: {exec: {denyFileless: yes please}}\n",
			[]string{`t.yaml:8:36: runtime.exec.denyFileless must be true or false`}},
		{"exec empty", header + "  - id: A\n    title: x\n    runtime: {exec: {}}\n",
			[]string{`t.yaml:8:21: runtime.exec needs deny, allow or denyFileless`}},
		{"connect allow bad port", header + "  - id: A\n    title: x\n    runtime: {connect: {allow: [\"10.0.0.0/8:0\"]}}\n",
			[]string{`t.yaml:8:33: runtime.connect.allow: "10.0.0.0/8:0": port must be 1-65535`}},
		{"connect empty", header + "  - id: A\n    title: x\n    runtime: {connect: {}}\n",
			[]string{`t.yaml:8:24: runtime.connect needs deny or allow`}},
		{"wrong apiVersion", "apiVersion: charter.dev/v2\nkind: Charter\nmetadata: {name: t}\nspec: {}\n",
			[]string{`t.yaml:1:13: apiVersion "charter.dev/v2" is not supported`}},
		{"not a mapping", "- a\n- b\n", []string{"t.yaml:1:1: charter must be a mapping, not a list"}},
		{"empty", "", []string{"t.yaml:1:1: empty file"}},
		{"two documents", header + "  - {id: A, title: x, runtime: {exec: {deny: [/bin/sh]}}}\n---\na: 1\n", []string{"t.yaml:8:1: a charter file holds exactly one document"}},
		{"council maxLifetime", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  council: {threshold: 1, keys: [a.pub], maxLifetime: forever}\n",
			[]string{`t.yaml:5:55: council.maxLifetime "forever" is not a duration (e.g. 30m, 8h, 24h)`}},
		{"council negative maxLifetime", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  council: {threshold: 1, keys: [a.pub], maxLifetime: -1h}\n",
			[]string{`t.yaml:5:55: council.maxLifetime -1h must be positive`}},
		{"council revoked id", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  council: {threshold: 1, keys: [a.pub], revoked: [ok-1, Not_OK]}\n",
			[]string{`t.yaml:5:58: council.revoked: "Not_OK" is not an override id`}},
		{"council threshold", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  council: {threshold: 3, keys: [a.pub]}\n",
			[]string{"t.yaml:5:12: council.threshold 3 must be between 1 and the number of keys (1)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			list, ok := err.(ErrorList)
			if !ok {
				t.Fatalf("error is %T, not ErrorList", err)
			}
			got := list.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			if len(list) != len(tc.want) {
				t.Errorf("got %d errors, want %d:\n%s", len(list), len(tc.want), got)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	src := header + `  - id: AD-1
    title: caps
    action: warn
    match: {kinds: [Pod], operations: [CREATE], labelSelector: {matchLabels: {a: b}, matchExpressions: [{key: c, operator: In, values: [d]}]}}
    foreach: {path: 'pod.spec.volumes', as: vol}
    violation:
      all:
      - {path: vol.hostPath.path, op: prefix, value: /etc}
      - not: {path: 'pod.metadata.annotations["x/*"]', op: exists}
    message: "{{vol.name}} mounts {{value}} at {{field}}"
    tests:
    - {name: inline, object: {kind: Pod}, expect: allow}
`
	c, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Spec.Articles[0]
	if a.Action != "warn" || a.Severity != "medium" || a.Foreach.As != "vol" || a.Foreach.Path.String() != "pod.spec.volumes[*]" {
		t.Errorf("article = %+v, foreach = %+v", a, a.Foreach)
	}
	if got := a.Violation.All[1].Not.Leaf.Path.Segs[2]; got.Kind != SegGlob || got.Name != "x/*" {
		t.Errorf("glob segment = %+v", got)
	}
	if len(a.Message.Parts) != 5 || a.Message.Parts[0].Path.Root != "vol" {
		t.Errorf("message parts = %+v", a.Message.Parts)
	}
	if a.Tests[0].Object["kind"] != "Pod" {
		t.Errorf("test object = %v", a.Tests[0].Object)
	}
}

func TestOverrides(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rt := "runtime: {exec: {deny: [/bin/sh]}}"
	base := write("base.yaml", header+"  - {id: B-1, title: b, "+rt+"}\n  - {id: B-2, title: b, "+rt+"}\n")
	strict := write("strict.yaml", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: s}\nspec:\n  include: [base.yaml]\n  articles:\n  - {id: S-1, title: s, overrides: [B-1], "+rt+"}\n")
	for _, load := range []func() (*Charter, error){
		func() (*Charter, error) { return Load(strict) },
		func() (*Charter, error) { return LoadPaths([]string{dir}) },
	} {
		c, err := load()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range c.Spec.Articles {
			ids = append(ids, a.ID)
		}
		if strings.Join(ids, ",") != "B-2,S-1" {
			t.Errorf("articles = %v, want B-2,S-1", ids)
		}
	}
	if c, err := Load(base); err != nil || len(c.Spec.Articles) != 2 {
		t.Errorf("base alone: %v %v", c, err)
	}
	bad := write("bad.yaml", header+"  - {id: X, title: x, overrides: [NOPE], "+rt+"}\n")
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), `overrides "NOPE", which this charter does not define`) {
		t.Errorf("unknown override: %v", err)
	}
}

func TestDirectoryLoadCatchesMistakes(t *testing.T) {
	rt := "runtime: {exec: {deny: [/bin/sh]}}"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"mistyped kind", map[string]string{"a.yaml": header + "  - {id: A, title: a, " + rt + "}\n", "b.yaml": "apiVersion: charter.dev/v1\nkind: Charterr\nmetadata: {name: b}\nspec: {}\n"}, "apiVersion charter.dev/v1 but not kind: Charter"},
		{"scopes disagree", map[string]string{
			"a.yaml": "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: a}\nspec:\n  scope: {namespaces: [prod]}\n  articles:\n  - {id: A, title: a, " + rt + "}\n",
			"b.yaml": header + "  - {id: B, title: b, " + rt + "}\n"}, "charters compiled together must agree"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tc.files {
				if err := os.WriteFile(dir+"/"+name, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := LoadPaths([]string{dir}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}
