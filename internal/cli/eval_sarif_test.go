package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/report/reporttest"
)

// multiDoc is three documents; the findings sit on fields well below each
// document's first line, in a list item and in a JSON-style flow mapping.
const multiDoc = `# first document: allowed
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: registry.k8s.io/pause:3.9
        securityContext:
          privileged: true
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: debug, namespace: shop}
  spec: {type: NodePort, ports: [{port: 80}]}
`

// TestEvalSARIFFieldLines: charter eval -o sarif on a multi-document file
// is valid SARIF 2.1.0 and every result's region is the offending field's
// own line and column: the text there is the field the finding names.
func TestEvalSARIFFieldLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "multi.yaml")
	if err := os.WriteFile(p, []byte(multiDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "eval", "--charter", "../../policies/anti-delos.yaml", "-o", "sarif", p)
	if code != 1 {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	reporttest.ValidateSARIF(t, []byte(out))
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					Physical struct {
						Region struct{ StartLine, StartColumn int } `json:"region"`
					} `json:"physicalLocation"`
					Logical []struct {
						FullyQualifiedName string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(multiDoc, "\n")
	at := map[string]int{}
	for _, r := range log.Runs[0].Results {
		loc := r.Locations[0]
		name := loc.Logical[0].FullyQualifiedName
		reg := loc.Physical.Region
		if reg.StartLine < 1 || reg.StartColumn < 1 {
			t.Errorf("%s %s: no field position (%d:%d)", r.RuleID, name, reg.StartLine, reg.StartColumn)
			continue
		}
		// The field itself, or for a field the object lacks (a missing
		// livenessProbe) the deepest field of the path it has.
		text := lines[reg.StartLine-1][reg.StartColumn-1:]
		before := strings.TrimSpace(lines[reg.StartLine-1][:reg.StartColumn-1])
		onField := strings.HasSuffix(before, "-") // a list element
		for _, seg := range strings.FieldsFunc(name, func(r rune) bool { return strings.ContainsRune(".[]\"", r) }) {
			onField = onField || strings.HasPrefix(text, seg+":")
		}
		if !onField {
			t.Errorf("%s %s at %d:%d reads %q, not a field of the path", r.RuleID, name, reg.StartLine, reg.StartColumn, text)
		}
		at[strings.SplitN(name, ".", 2)[1]] = reg.StartLine
	}
	for path, line := range map[string]int{
		"spec.template.spec.hostNetwork":                              14,
		"spec.template.spec.containers[0].securityContext.privileged": 19,
		"spec.type": 27,
		"spec.template.spec.containers[0].livenessProbe":          16, // absent: its container
		`spec.template.metadata.labels["app.kubernetes.io/name"]`: 12,
	} {
		if at[path] != line {
			t.Errorf("%s at line %d, want %d (all: %v)", path, at[path], line, at)
		}
	}
}
