package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/report/reporttest"
	"golang.org/x/net/html"
)

func TestCompare(t *testing.T) {
	deny := Violation{Article: "A", Action: "deny", Severity: "high", Message: "m", Path: "spec.x"}
	warn := Violation{Article: "B", Action: "warn", Severity: "low", Message: "w"}
	reworded := warn
	reworded.Message = "w2"
	cases := []struct {
		name     string
		old, new Result
		change   string
		added    int
		removed  int
	}{
		{"same", Result{Allowed: false, Violations: []Violation{deny, warn}}, Result{Allowed: false, Violations: []Violation{warn, deny}}, "", 0, 0},
		{"newly denied", Result{Allowed: true}, Result{Allowed: false, Violations: []Violation{deny}}, NewlyDenied, 1, 0},
		{"newly allowed", Result{Allowed: false, Violations: []Violation{deny, warn}}, Result{Allowed: true, Violations: []Violation{warn}}, NewlyAllowed, 0, 1},
		{"reworded", Result{Allowed: true, Violations: []Violation{warn}}, Result{Allowed: true, Violations: []Violation{reworded}}, FindingsChanged, 1, 1},
		{"one more of the same", Result{Violations: []Violation{deny}}, Result{Violations: []Violation{deny, deny}}, FindingsChanged, 1, 0},
		{"same finding, other field", Result{Violations: []Violation{deny}}, Result{Violations: []Violation{{Article: "A", Action: "deny", Severity: "high", Message: "m", Path: "spec.y"}}}, FindingsChanged, 1, 1},
	}
	for _, tc := range cases {
		c, changed := Compare(tc.old, tc.new)
		if changed != (tc.change != "") || c.Change != tc.change || len(c.Added) != tc.added || len(c.Removed) != tc.removed {
			t.Errorf("%s: %+v, changed %v", tc.name, c, changed)
		}
	}
}

// TestDiffHTMLInChromium: the impact preview page draws its charts of the
// added findings and lists every added and removed finding.
func TestDiffHTMLInChromium(t *testing.T) {
	b := reporttest.Chromium(t)
	d := Diff{Old: Policy{Name: "p", Version: "1"}, New: Policy{Name: "p", Version: "2"}, Objects: 9}
	for _, pair := range [][2]Result{
		{{Kind: "Pod", Namespace: "a", Name: "x", Allowed: true}, {Kind: "Pod", Namespace: "a", Name: "x", Violations: []Violation{{Article: "N-1", Action: "deny", Severity: "critical", Message: "new rule", Path: "spec.hostNetwork"}}}},
		{{Kind: "Service", Namespace: "b", Name: "y", Violations: []Violation{{Article: "O-1", Action: "deny", Severity: "high", Message: "old rule"}}}, {Kind: "Service", Namespace: "b", Name: "y", Allowed: true}},
	} {
		if c, ok := Compare(pair[0], pair[1]); ok {
			d.Changes = append(d.Changes, c)
		}
	}
	var buf bytes.Buffer
	if err := (HTML{}).WriteDiff(&buf, d); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "diff.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(b.DOM(page, "")))
	if err != nil {
		t.Fatal(err)
	}
	for key, n := range map[string]string{"article": "1", "namespace": "1", "severity": "1"} {
		charts := find(doc, func(e *html.Node) bool { return e.Data == "svg" && attr(e, "data-key") == key })
		if len(charts) != 1 || attr(charts[0], "data-drawn") != n {
			t.Errorf("chart %s: %d charts, drawn %q, want %s bar (the added finding)", key, len(charts), attr(charts[0], "data-drawn"), n)
		}
	}
	rows := find(doc, func(e *html.Node) bool {
		return e.Data == "tr" && e.Parent.Data == "tbody" && attr(e.Parent.Parent, "id") == "findings"
	})
	all := text(doc)
	if len(rows) != 2 || !strings.Contains(all, "newly denied") || !strings.Contains(all, "old rule") || !strings.Contains(all, "spec.hostNetwork") {
		t.Errorf("rows = %d\n%s", len(rows), all)
	}
	tiles := find(doc, func(e *html.Node) bool { return attr(e, "data-tile") == "newly-denied" })
	if len(tiles) != 1 || !strings.HasPrefix(text(tiles[0]), "1") {
		t.Errorf("newly denied tile = %v", tiles)
	}
}
