package report

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/charter-dev/charter/report/reporttest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestSARIFSchema: what the writer produces is valid SARIF 2.1.0, including
// file names that are not plain URI segments and results with no line.
func TestSARIFSchema(t *testing.T) {
	rs := append([]Result(nil), results...)
	rs = append(rs,
		Result{File: "<stdin>", Kind: "Pod", Name: "p", Violations: []Violation{{Article: "AD-001", Action: "deny", Severity: "critical", Message: "m"}}},
		Result{File: "dir with space/c:d.yaml", Line: 3, Kind: "Pod", Name: "q", Violations: []Violation{{Article: "AD-014", Action: "audit", Message: "m", Path: "spec", Line: 4, Column: 3}}},
	)
	var b bytes.Buffer
	if err := (SARIF{}).Write(&b, policy, rs); err != nil {
		t.Fatal(err)
	}
	reporttest.ValidateSARIF(t, b.Bytes())
	var log sarifLog
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range log.Runs[0].Results {
		got = append(got, r.Locations[0].Physical.Artifact.URI)
	}
	want := "a.yaml a.yaml %3Cstdin%3E dir%20with%20space/c%3Ad.yaml"
	if strings.Join(got, " ") != want {
		t.Errorf("uris = %q, want %q", strings.Join(got, " "), want)
	}
	if r := log.Runs[0].Results[3].Locations[0].Physical.Region; r == nil || r.StartLine != 4 || r.StartColumn != 3 {
		t.Errorf("region = %+v, want the field's 4:3", r)
	}
	if log.Runs[0].Results[2].Locations[0].Physical.Region != nil {
		t.Error("a result without a line has no region")
	}
}

// TestSARIFSchemaRejects: the schema check is a real one: broken logs fail.
func TestSARIFSchemaRejects(t *testing.T) {
	f, err := os.Open(reporttest.SchemaPath())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"wrong version":     `{"version":"2.0.0","runs":[]}`,
		"no driver name":    `{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}`,
		"line zero":         `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a"},"region":{"startLine":0}}}]}]}]}`,
		"bad escape in uri": `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a%zz"}}}]}]}]}`,
		"unknown level":     `{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"level":"fatal","message":{"text":"m"}}]}]}`,
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate(v) == nil {
			t.Errorf("%s: the schema accepts %s", name, bad)
		}
	}
}
