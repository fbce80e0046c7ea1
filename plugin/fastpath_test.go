package plugin

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/charter-dev/charter/engine"
)

func TestPlainRequest(t *testing.T) {
	cases := []struct {
		name, url     string
		header        map[string]string
		pretty, plain bool
	}{
		{"plain", "/v1/data/charter/decision", nil, false, true},
		{"json content type", "/v1/data/charter/decision", map[string]string{"Content-Type": "application/json"}, false, true},
		{"pretty", "/v1/data/charter/decision?pretty", nil, true, true},
		{"pretty=true", "/v1/data/charter/decision?pretty=true", nil, true, true},
		{"pretty=false", "/v1/data/charter/decision?pretty=false", nil, false, true},
		{"pretty=maybe", "/v1/data/charter/decision?pretty=maybe", nil, false, false},
		{"explain", "/v1/data/charter/decision?explain=full", nil, false, false},
		{"metrics", "/v1/data/charter/decision?metrics", nil, false, false},
		{"provenance", "/v1/data/charter/decision?provenance=true", nil, false, false},
		{"two prettys", "/v1/data/charter/decision?pretty&pretty", nil, false, false},
		{"yaml", "/v1/data/charter/decision", map[string]string{"Content-Type": "application/x-yaml"}, false, false},
		{"gzip", "/v1/data/charter/decision", map[string]string{"Content-Encoding": "gzip"}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tc.url, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			pretty, plain := plainRequest(r)
			if pretty != tc.pretty || plain != tc.plain {
				t.Errorf("plainRequest = %v, %v; want %v, %v", pretty, plain, tc.pretty, tc.plain)
			}
		})
	}
}

func TestParseInput(t *testing.T) {
	cases := []struct {
		name, body string
		ok         bool
		want       string
	}{
		{"object", `{"input": {"kind": "Pod", "n": 1.50}}`, true, `{"kind":"Pod","n":1.50}`},
		{"null input is no input", `{"input": null}`, false, ""},
		{"string input", `{"input": "x"}`, true, `"x"`},
		{"no input", `{}`, false, ""},
		{"empty body", ``, false, ""},
		{"further keys", `{"input": {}, "metadata": {}}`, false, ""},
		{"trailing data", `{"input": {}} {}`, false, ""},
		{"trailing garbage", `{"input": {}} x`, false, ""},
		{"not JSON", `input: {}`, false, ""},
		{"big integer kept exact", `{"input": 12345678901234567890}`, true, `12345678901234567890`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := parseInput([]byte(tc.body))
			if ok != tc.ok {
				t.Fatalf("parseInput ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			got, _ := json.Marshal(v)
			if string(got) != tc.want {
				t.Errorf("parseInput = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestWireDecision: the native answer has the keys the compiled Rego writes,
// also an empty title or path (engine.Finding omits them).
func TestWireDecision(t *testing.T) {
	d := engine.Decision{Allowed: false, Violations: []engine.Finding{{Article: "A", Action: "deny", Severity: "high", Message: "m"}}, Warnings: []engine.Finding{}}
	out, err := json.Marshal(response{Result: wireDecision(d)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"result":{"allowed":false,"audits":[],"overridden":[],"violations":[{"article":"A","title":"","action":"deny","severity":"high","message":"m","path":""}],"warnings":[]}}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

func TestRecord(t *testing.T) {
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "ns"}}
	review := map[string]any{"kind": "AdmissionReview", "request": map[string]any{
		"uid": "u1", "operation": "DELETE", "namespace": "ns2", "userInfo": map[string]any{"username": "alice"},
		"oldObject": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "d"}},
	}}
	denied := engine.Decision{Violations: []engine.Finding{{Article: "A"}}}
	for _, tc := range []struct {
		name  string
		input any
		d     engine.Decision
		want  string
	}{
		{"plain object", pod, engine.Decision{Allowed: true}, `"decision":"allowed","articles":[],"override":"","review":false,"operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","namespace":"ns","name":"p"}`},
		{"review of a delete", review, denied, `"decision":"denied","articles":[{"article":"A"}],"override":"","review":true,"uid":"u1","user":"alice","operation":"DELETE","object":{"apiVersion":"apps/v1","kind":"Deployment","namespace":"ns2","name":"d"}`},
		{"not an object", "x", engine.Decision{Allowed: true}, `"review":false,"operation":"CREATE","object":{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := record(tc.input, tc.d, auditBundle(), fixedTime, "", "")
			r.Articles = articles(tc.d.All())
			out, _ := json.Marshal(r)
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("record = %s\nwant it to contain %s", out, tc.want)
			}
		})
	}
}
