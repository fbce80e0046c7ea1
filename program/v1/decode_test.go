package v1

import (
	"encoding/json"
	"strings"
	"testing"
)

const good = `{"version": 1, "scope": {}, "articles": [{"id": "A", "title": "t", "action": "deny", "severity": "high",
 "package": "charter.articles.a", "kinds": ["Pod"], "operations": ["CREATE"], "foreach": "containers",
 "violation": {"leaf": {"path": {"root": "element", "steps": [{"kind": "field", "name": "image", "text": ".image"}]}, "op": "equals", "value": 1.50}},
 "message": [{"text": "x "}, {"witness": "value"}, {"ref": {"root": "object", "steps": [{"kind": "index", "index": 0, "text": "[0]"}]}}]}]}`

func TestDecode(t *testing.T) {
	p, err := Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if v := p.Articles[0].Violation.Leaf.Value; v != json.Number("1.50") {
		t.Errorf("operand = %#v, want the exact text json.Number(\"1.50\")", v)
	}
}

// TestDecodeRefuses: each way a program can be one this engine does not
// understand is its own error.
func TestDecodeRefuses(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"a newer version", `"version": 1`, `"version": 2`, "program version 2 is not supported (this engine reads version 1)"},
		{"version 0", `"version": 1`, `"version": 0`, "program version 0 is not supported"},
		{"no version", `"version": 1,`, ``, "it has no version"},
		{"a string version", `"version": 1`, `"version": "1"`, "decode program"},
		{"an unknown field", `"scope": {}`, `"scope": {}, "extra": true`, `unknown field "extra"`},
		{"an unknown operator", `"op": "equals"`, `"op": "regex"`, `unknown operator "regex"`},
		{"an unknown step", `"kind": "field"`, `"kind": "Field"`, `unknown path step "Field"`},
		{"an unknown root", `"root": "element"`, `"root": "el"`, `unknown path root "el"`},
		{"an unknown action", `"action": "deny"`, `"action": "block"`, `unknown action "block"`},
		{"an unknown foreach", `"foreach": "containers"`, `"foreach": "initContainers"`, `unknown foreach "initContainers"`},
		{"an unknown witness", `"witness": "value"`, `"witness": "offender"`, `unknown witness "offender"`},
		{"a wildcard placeholder", `"kind": "index", "index": 0`, `"kind": "all"`, "wildcard step"},
		{"a condition with two forms", `"violation": {"leaf"`, `"violation": {"not": {"leaf": {"path": {"root": "object"}, "op": "exists"}}, "leaf"`, "exactly one of any, all, not and leaf"},
		{"an empty condition", `"violation": {"leaf"`, `"violation": {}, "x": {"leaf"`, `unknown field "x"`},
		{"a hatch with a violation", `"foreach": "containers"`, `"foreach": "containers", "hatch": true`, "exactly one of a violation and a hatch"},
		{"a comparison without a number", `"op": "equals", "value": 1.50`, `"op": "gt", "number": "1Gi"`, `operand "1Gi" is not a number`},
		{"in without a list", `"op": "equals", "value": 1.50`, `"op": "in", "value": "x"`, "operator in without a list"},
		{"a string operator without a string", `"op": "equals", "value": 1.50`, `"op": "prefix", "value": 1`, "operator prefix without a string operand"},
		{"an unknown selector operator", `"operations"`, `"labelSelector": {"matchExpressions": [{"key": "k", "operator": "Gt"}]}, "operations"`, `unknown label selector operator "Gt"`},
		{"foreach path without a path", `"foreach": "containers"`, `"foreach": "path"`, "foreach path without a path"},
		{"valuesFrom on equals", `"op": "equals", "value": 1.50`, `"op": "equals", "valuesFrom": {"root": "object"}`, "operator equals with valuesFrom"},
		{"valuesFrom with an unknown root", `"op": "equals", "value": 1.50`, `"op": "in", "valuesFrom": {"root": "old"}`, `valuesFrom: unknown path root "old"`},
		{"changed on the pod", `"op": "equals", "value": 1.50`, `"op": "changed"`, "operator changed on a path from element"},
		{"a cluster query without a kind", `"violation": {"leaf"`, `"violation": {"cluster": {"op": "exists"}}, "x": {"leaf"`, `unknown field "x"`},
		{"not JSON", good, `{"version": 1,`, "decode program"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.from) {
				t.Fatalf("test case does not apply: %q not in the program", tc.from)
			}
			_, err := Decode([]byte(strings.Replace(good, tc.from, tc.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestDecodeClusterQuery: a cluster query's kind, operator and where roots
// are checked.
func TestDecodeClusterQuery(t *testing.T) {
	base := `{"version": 1, "scope": {}, "articles": [{"id": "A", "title": "t", "action": "deny", "severity": "high",
 "package": "charter.articles.a", "kinds": ["Pod"], "violation": {"cluster": %s}, "message": [{"text": "x"}]}]}`
	for _, tc := range []struct{ name, query, want string }{
		{"good", `{"kind": "Namespace", "op": "absent", "name": {"root": "request", "steps": [{"kind": "field", "name": "namespace", "text": ".namespace"}]}, "where": [{"path": {"root": "other"}, "op": "exists"}]}`, ""},
		{"no kind", `{"op": "exists"}`, "a cluster query needs a kind"},
		{"another operator", `{"kind": "Namespace", "op": "equals"}`, "the operator exists or absent"},
		{"a where leaf on the object", `{"kind": "Namespace", "op": "exists", "where": [{"path": {"root": "object"}, "op": "exists"}]}`, "a where leaf reads the candidate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(strings.Replace(base, "%s", tc.query, 1)))
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}
