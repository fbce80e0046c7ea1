package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
)

var policy = Policy{Name: "anti-delos", Version: "1.0.0", Articles: map[string]Article{
	"AD-001": {Title: "No privileged", Severity: "critical", Action: "deny"},
	"AD-014": {Title: "Read-only root", Severity: "medium", Action: "warn"},
}}

var results = []Result{
	{File: "a.yaml", Index: 0, Line: 1, APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web", Allowed: false, Violations: []Violation{
		{Article: "AD-001", Action: "deny", Severity: "critical", Message: "container app is privileged", Path: "spec.containers[0].securityContext.privileged"},
		{Article: "AD-014", Action: "warn", Severity: "medium", Message: "writable root"},
	}},
	{File: "a.yaml", Index: 1, Line: 9, APIVersion: "v1", Kind: "Namespace", Name: "shop", Allowed: true},
}

func write(t *testing.T, format string) string {
	t.Helper()
	w, err := New(format, false)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, policy, append([]Result(nil), results...)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestText(t *testing.T) {
	out := write(t, "text")
	for _, want := range []string{"DENY Pod shop/web (a.yaml#0)", "deny  AD-001   container app is privileged", "at spec.containers[0].securityContext.privileged", "PASS Namespace shop (a.yaml#1)", "2 objects: 1 allowed, 1 denied, 1 warnings, 0 skipped (no article applies)\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without a terminal")
	}
}

// TestTextSkip: an allowed object no article applied to is SKIP, one some
// article applied to and passed is PASS, and one whose count is unknown
// stays PASS; json carries the count (review finding: plain eval said
// PASS where eval --explain says SKIP).
func TestTextSkip(t *testing.T) {
	rs := []Result{
		{File: "a.yaml", Kind: "Secret", Namespace: "shop", Name: "s", Allowed: true, ArticlesApplied: Applied(0)},
		{File: "a.yaml", Index: 1, Kind: "Pod", Namespace: "shop", Name: "p", Allowed: true, ArticlesApplied: Applied(3)},
		{File: "a.yaml", Index: 2, Kind: "Pod", Namespace: "shop", Name: "q", Allowed: true, ArticlesApplied: Applied(-1)},
		{File: "a.yaml", Index: 3, Kind: "Pod", Namespace: "shop", Name: "w", Allowed: true, ArticlesApplied: Applied(1),
			Violations: []Violation{{Article: "AD-014", Action: "warn", Message: "writable root"}}},
	}
	var b bytes.Buffer
	if err := (Text{}).Write(&b, policy, rs); err != nil {
		t.Fatal(err)
	}
	want := "SKIP Secret shop/s (a.yaml#0)\nPASS Pod shop/p (a.yaml#1)\nPASS Pod shop/q (a.yaml#2)\nWARN Pod shop/w (a.yaml#3)\n" +
		"    warn  AD-014   writable root\n4 objects: 4 allowed, 0 denied, 1 warnings, 1 skipped (no article applies)\n"
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := (JSON{}).Write(&b, policy, rs); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Results []map[string]any }
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for i, want := range []any{0.0, 3.0, nil, 1.0} {
		if got := doc.Results[i]["articlesApplied"]; got != want {
			t.Errorf("result %d: articlesApplied %v, want %v", i, got, want)
		}
	}
}

func TestJSON(t *testing.T) {
	var doc struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(write(t, "json")), &doc); err != nil {
		t.Fatal(err)
	}
	v0 := doc.Results[0]["violations"].([]any)[0].(map[string]any)
	if len(doc.Results) != 2 || len(doc.Results[1]["violations"].([]any)) != 0 || doc.Results[0]["line"] != 1.0 || v0["path"] != "spec.containers[0].securityContext.privileged" {
		t.Errorf("json = %+v", doc)
	}
}

func TestSARIF(t *testing.T) {
	var log sarifLog
	if err := json.Unmarshal([]byte(write(t, "sarif")), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if log.Version != "2.1.0" || len(run.Tool.Driver.Rules) != 3 || len(run.Results) != 2 {
		t.Fatalf("sarif = %+v", log)
	}
	r := run.Results[0]
	if r.RuleID != "AD-001" || r.Level != "error" || r.Locations[0].Physical.Region.StartLine != 1 || r.Locations[0].Logical[0].FullyQualifiedName != "Pod/shop/web.spec.containers[0].securityContext.privileged" {
		t.Errorf("result = %+v", r)
	}
	if run.Results[1].Level != "warning" {
		t.Errorf("warn level = %s", run.Results[1].Level)
	}
}

func TestJUnit(t *testing.T) {
	var suites junitSuites
	if err := xml.Unmarshal([]byte(write(t, "junit")), &suites); err != nil {
		t.Fatal(err)
	}
	if suites.Tests != 2 || suites.Failures != 1 || len(suites.Suites) != 1 {
		t.Fatalf("junit = %+v", suites)
	}
	c := suites.Suites[0].Cases[0]
	if c.Failure == nil || !strings.Contains(c.Failure.Text, "deny AD-001: container app is privileged") || !strings.Contains(c.SystemOut, "warn AD-014") {
		t.Errorf("case = %+v", c)
	}
}

func TestPolicyReport(t *testing.T) {
	var list struct {
		Items []prReport `json:"items"`
	}
	if err := json.Unmarshal([]byte(write(t, "policyreport")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 || list.Items[1].Kind != "ClusterPolicyReport" || list.Items[0].Kind != "PolicyReport" {
		t.Fatalf("items = %+v", list.Items)
	}
	ns := list.Items[0]
	if ns.Summary.Fail != 1 || ns.Summary.Warn != 1 || ns.Results[0].Rule != "AD-001" || ns.Results[0].Severity != "critical" || ns.Results[0].Resources[0].Name != "web" {
		t.Errorf("namespaced report = %+v", ns)
	}
	if list.Items[1].Summary.Pass != 1 {
		t.Errorf("cluster report = %+v", list.Items[1])
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := New("xml", false); err == nil || !strings.Contains(err.Error(), "sarif") {
		t.Errorf("err = %v", err)
	}
}
