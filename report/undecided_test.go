package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/charter-dev/charter/report/reporttest"
)

// undecided is an object whose decision failed, in a file after a denied
// and an allowed one.
var undecided = Result{File: "b.yaml", Index: 2, Line: 7, APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "cm",
	Error: "evaluate: charter/articles/e_1.rego:29: eval_conflict_error: object keys must be unique"}

func writeUndecided(t *testing.T, format string) string {
	t.Helper()
	w, err := New(format, false)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, policy, []Result{results[0], results[1], undecided}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestUndecidedInEveryFormat: an object that could not be decided is in
// the report of every format, at its file and line, naming the error, and
// is counted neither allowed nor denied (review finding: it was missing
// from the streamed reports, so a CI reading only the report saw nothing
// wrong).
func TestUndecidedInEveryFormat(t *testing.T) {
	t.Run("text", func(t *testing.T) {
		out := writeUndecided(t, "text")
		for _, want := range []string{
			"ERROR ConfigMap shop/cm (b.yaml#2)\n    error " + undecided.Error + "\n",
			"3 objects: 1 allowed, 1 denied, 1 warnings, 0 skipped (no article applies), 1 could not be decided\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("text lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		var doc struct{ Results []map[string]any }
		if err := json.Unmarshal([]byte(writeUndecided(t, "json")), &doc); err != nil {
			t.Fatal(err)
		}
		r := doc.Results[2]
		if len(doc.Results) != 3 || r["name"] != "cm" || r["allowed"] != false || r["error"] != undecided.Error || r["line"] != 7.0 {
			t.Errorf("json result = %v", r)
		}
		if _, ok := doc.Results[0]["error"]; ok {
			t.Errorf("a decided object has an error: %v", doc.Results[0])
		}
	})
	t.Run("sarif", func(t *testing.T) {
		out := writeUndecided(t, "sarif")
		reporttest.ValidateSARIF(t, []byte(out))
		var log sarifLog
		if err := json.Unmarshal([]byte(out), &log); err != nil {
			t.Fatal(err)
		}
		var got []sarifResult
		for _, r := range log.Runs[0].Results {
			if r.RuleID == DecisionErrorRule {
				got = append(got, r)
			}
		}
		if len(got) != 1 {
			t.Fatalf("%d results of %s, want 1:\n%s", len(got), DecisionErrorRule, out)
		}
		r, loc := got[0], got[0].Locations[0]
		if r.Level != "error" || !strings.Contains(r.Message.Text, undecided.Error) || loc.Physical.Artifact.URI != "b.yaml" ||
			loc.Physical.Region == nil || loc.Physical.Region.StartLine != 7 || loc.Logical[0].FullyQualifiedName != "ConfigMap/shop/cm" {
			t.Errorf("result = %+v", r)
		}
		rules := log.Runs[0].Tool.Driver.Rules
		if last := rules[len(rules)-1]; last.ID != DecisionErrorRule || last.Default.Level != "error" {
			t.Errorf("rules = %+v, want %s last", rules, DecisionErrorRule)
		}
	})
	t.Run("junit", func(t *testing.T) {
		var suites junitSuites
		if err := xml.Unmarshal([]byte(writeUndecided(t, "junit")), &suites); err != nil {
			t.Fatal(err)
		}
		if suites.Tests != 3 || suites.Failures != 1 || suites.Errors != 1 || len(suites.Suites) != 2 || suites.Suites[1].Errors != 1 {
			t.Fatalf("junit = %+v", suites)
		}
		c := suites.Suites[1].Cases[0]
		if c.Name != "ConfigMap/shop/cm #2" || c.Error == nil || c.Error.Text != undecided.Error || c.Failure != nil {
			t.Errorf("case = %+v", c)
		}
		if clean := writeUndecided(t, "junit"); !strings.Contains(write(t, "junit"), `failures="1">`) || strings.Contains(write(t, "junit"), "errors=") || !strings.Contains(clean, `errors="1"`) {
			t.Errorf("errors attribute: only when some object could not be decided")
		}
	})
	t.Run("policyreport", func(t *testing.T) {
		var list struct {
			Items []prReport `json:"items"`
		}
		if err := json.Unmarshal([]byte(writeUndecided(t, "policyreport")), &list); err != nil {
			t.Fatal(err)
		}
		ns := list.Items[0]
		var found bool
		for _, r := range ns.Results {
			if r.Result == "error" {
				found = r.Resources[0].Name == "cm" && strings.Contains(r.Message, undecided.Error)
			}
		}
		if !found || ns.Summary.Error != 1 || ns.Summary.Fail != 1 {
			t.Errorf("report = %+v", ns)
		}
	})
	t.Run("html", func(t *testing.T) {
		out := writeUndecided(t, "html")
		for _, want := range []string{
			`<td class="message">could not be decided: ` + undecided.Error + `</td>`,
			`>b.yaml:7</td>`,
			`data-tile="errors"><b>1</b>could not be decided`,
			`data-tile="allowed"><b>1</b>`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("html lacks %q", want)
			}
		}
	})
}
