package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/report"
	"github.com/charter-dev/charter/report/reporttest"
)

// conflictCharter's raw Rego article fails at evaluation on a ConfigMap
// with two data keys (an object comprehension gives key "k" two values).
const conflictCharter = `apiVersion: charter.dev/v1
kind: Charter
metadata: {name: conflict, version: 1.0.0}
spec:
  defaults: {action: deny, severity: high}
  articles:
  - id: E-1
    title: few data keys
    match: {kinds: [ConfigMap]}
    rego: |
      keys := {"k": k | some k, _ in resource.data}
      count(keys) > 5
    message: too many keys
  - id: P-1
    title: no NodePort
    match: {kinds: [Service]}
    violation: {path: object.spec.type, op: equals, value: NodePort}
    message: service is NodePort
`

const conflictObjects = `apiVersion: v1
kind: ConfigMap
metadata: {name: one, namespace: a}
data: {x: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: two, namespace: a}
data: {x: "1", y: "2"}
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: a}
spec: {type: NodePort}
`

// TestEvalUndecidedInReport: an object whose decision fails is in the
// report of eval and audit scan in every format, at its file and first
// line, naming the error; the run exits 2 and stderr names it too (review
// finding: such an object was left out of the report).
func TestEvalUndecidedInReport(t *testing.T) {
	dir := t.TempDir()
	ch := filepath.Join(dir, "conflict.yaml")
	objs := filepath.Join(dir, "objs.yaml")
	for p, text := range map[string]string{ch: conflictCharter, objs: conflictObjects} {
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const cause = "eval_conflict_error: object keys must be unique"
	for _, cmd := range [][]string{{"eval"}, {"audit", "scan"}} {
		for _, format := range []string{"text", "json", "sarif", "junit", "policyreport"} {
			t.Run(strings.Join(cmd, " ")+"/"+format, func(t *testing.T) {
				code, out, stderr := run(t, "", append(cmd, "--charter", ch, "-o", format, objs)...)
				if code != 2 || !strings.Contains(stderr, "objs.yaml#1: evaluate: ") || !strings.Contains(stderr, cause) {
					t.Fatalf("exit %d (want 2), stderr %s", code, stderr)
				}
				switch format {
				case "text":
					for _, want := range []string{"ERROR ConfigMap a/two (" + objs + "#1)\n    error evaluate: ", "DENY Service a/np", "3 objects: 1 allowed, 1 denied, 0 warnings, 0 skipped (no article applies), 1 could not be decided"} {
						if !strings.Contains(out, want) {
							t.Errorf("text lacks %q:\n%s", want, out)
						}
					}
				case "json":
					var doc struct{ Results []report.Result }
					if err := json.Unmarshal([]byte(out), &doc); err != nil {
						t.Fatal(err)
					}
					if len(doc.Results) != 3 || doc.Results[1].Name != "two" || doc.Results[1].Allowed || doc.Results[1].Line != 6 || !strings.Contains(doc.Results[1].Error, cause) {
						t.Errorf("results = %+v", doc.Results)
					}
				case "sarif":
					reporttest.ValidateSARIF(t, []byte(out))
					var log struct {
						Runs []struct {
							Results []struct {
								RuleID, Level string
								Message       struct{ Text string }
								Locations     []struct {
									Physical struct {
										Artifact struct{ URI string } `json:"artifactLocation"`
										Region   struct{ StartLine int }
									} `json:"physicalLocation"`
								}
							}
						}
					}
					if err := json.Unmarshal([]byte(out), &log); err != nil {
						t.Fatal(err)
					}
					found := false
					for _, r := range log.Runs[0].Results {
						if r.RuleID == report.DecisionErrorRule {
							p := r.Locations[0].Physical
							found = r.Level == "error" && strings.Contains(r.Message.Text, "ConfigMap/a/two: evaluate: ") && strings.Contains(r.Message.Text, cause) &&
								strings.HasSuffix(p.Artifact.URI, "/objs.yaml") && p.Region.StartLine == 6
						}
					}
					if !found || len(log.Runs[0].Results) != 2 {
						t.Errorf("no error result for ConfigMap a/two at objs.yaml:6:\n%s", out)
					}
				case "junit":
					var suites struct {
						Tests  int `xml:"tests,attr"`
						Errors int `xml:"errors,attr"`
						Suites []struct {
							Cases []struct {
								Name  string `xml:"name,attr"`
								Error *struct {
									Text string `xml:",chardata"`
								} `xml:"error"`
							} `xml:"testcase"`
						} `xml:"testsuite"`
					}
					if err := xml.Unmarshal([]byte(out), &suites); err != nil {
						t.Fatal(err)
					}
					c := suites.Suites[0].Cases[1]
					if suites.Tests != 3 || suites.Errors != 1 || c.Name != "ConfigMap/a/two #1" || c.Error == nil || !strings.Contains(c.Error.Text, cause) {
						t.Errorf("junit:\n%s", out)
					}
				case "policyreport":
					if !strings.Contains(out, `"result": "error"`) || !strings.Contains(out, `"error": 1`) || !strings.Contains(out, cause) {
						t.Errorf("policyreport:\n%s", out)
					}
				}
			})
		}
	}
}
