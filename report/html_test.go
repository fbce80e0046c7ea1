package report

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/charter-dev/charter/report/reporttest"
	"golang.org/x/net/html"
)

// htmlResults spreads findings over articles, namespaces and severities,
// with a message that would be markup if it were not escaped.
func htmlResults() []Result {
	rs := append([]Result(nil), results...)
	rs = append(rs, Result{File: "b.yaml", Index: 0, Line: 1, Kind: "Deployment", Namespace: "billing", Name: "api", Violations: []Violation{
		{Article: "AD-001", Action: "deny", Severity: "critical", Message: "<script>alert(1)</script> is privileged", Path: "spec.template.spec.containers[0].securityContext.privileged", Line: 12, Column: 9},
		{Article: "AD-016", Action: "audit", Severity: "low", Message: "no liveness probe", Path: "spec.template.spec.containers[0]", Line: 8, Column: 7},
	}}, Result{File: "c.yaml", Kind: "ClusterRole", Name: "admin", Allowed: true, Violations: []Violation{
		{Article: "AD-014", Action: "warn", Severity: "medium", Message: "wildcard verbs", Path: "rules[0].verbs"},
	}})
	return rs
}

// TestHTMLInChromium renders the page in real headless Chromium: its script
// ran, the three charts were drawn with one non-empty bar per article,
// namespace and severity and counts that add up, the table holds every
// finding with its message and field and sorts, nothing was fetched, and a
// screenshot is kept.
func TestHTMLInChromium(t *testing.T) {
	b := reporttest.Chromium(t)
	rs := htmlResults()
	var buf bytes.Buffer
	if err := (HTML{}).Write(&buf, policy, rs); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"http://", "https://", "src=", "<link", "@import"} {
		if i := strings.Index(buf.String(), bad); i >= 0 && !strings.Contains(buf.String()[max(0, i-40):i+40], "www.w3.org/2000/svg") {
			t.Errorf("the page refers outside itself: %q near %q", bad, buf.String()[max(0, i-40):min(buf.Len(), i+40)])
		}
	}
	page := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(strings.NewReader(b.DOM(page, "sort=article:desc")))
	if err != nil {
		t.Fatal(err)
	}
	if body := find(doc, func(n *html.Node) bool { return n.Data == "body" }); attr(body[0], "data-ready") != "true" {
		t.Fatal("the page's script did not run to its end")
	}
	want := map[string]map[string]int{
		"article":   {"AD-001": 2, "AD-014": 2, "AD-016": 1},
		"namespace": {"shop": 2, "billing": 2, "(cluster)": 1},
		"severity":  {"critical": 2, "medium": 2, "low": 1},
	}
	for key, counts := range want {
		charts := find(doc, func(n *html.Node) bool { return n.Data == "svg" && attr(n, "data-key") == key })
		if len(charts) != 1 {
			t.Fatalf("chart %s: %d svg elements", key, len(charts))
		}
		if attr(charts[0], "data-drawn") != strconv.Itoa(len(counts)) {
			t.Errorf("chart %s drew %q bars, want %d", key, attr(charts[0], "data-drawn"), len(counts))
		}
		got := map[string]int{}
		for _, row := range find(charts[0], func(n *html.Node) bool { return n.Data == "g" && attr(n, "class") == "bar-row" }) {
			rect := find(row, func(n *html.Node) bool { return n.Data == "rect" })
			if len(rect) != 1 {
				t.Fatalf("chart %s: bar %s has %d rects", key, attr(row, "data-label"), len(rect))
			}
			w, _ := strconv.Atoi(attr(rect[0], "width"))
			h, _ := strconv.Atoi(attr(rect[0], "height"))
			if w <= 0 || h <= 0 {
				t.Errorf("chart %s: bar %s is %dx%d", key, attr(row, "data-label"), w, h)
			}
			got[attr(row, "data-label")], _ = strconv.Atoi(attr(row, "data-count"))
		}
		if fmt.Sprint(got) != fmt.Sprint(counts) {
			t.Errorf("chart %s = %v, want %v", key, got, counts)
		}
	}
	rows := find(doc, func(n *html.Node) bool { return n.Data == "tr" && n.Parent.Data == "tbody" })
	if len(rows) != 5 {
		t.Fatalf("table has %d findings, want 5", len(rows))
	}
	var articles []string
	for _, r := range rows {
		articles = append(articles, text(r.FirstChild.NextSibling.NextSibling))
	}
	if strings.Join(articles, " ") != "AD-016 AD-014 AD-014 AD-001 AD-001" {
		t.Errorf("#sort=article:desc gave %v", articles)
	}
	all := text(doc)
	for _, s := range []string{"<script>alert(1)</script> is privileged", "spec.template.spec.containers[0].securityContext.privileged", "b.yaml:12:9", "rules[0].verbs"} {
		if !strings.Contains(all, s) {
			t.Errorf("page text lacks %q", s)
		}
	}
	if len(find(doc, func(n *html.Node) bool { return n.Data == "script" && text(n) == "alert(1)" })) > 0 {
		t.Error("a finding's message became markup")
	}

	shot := filepath.Join(reporttest.ArtifactsDir(t), "html-report.png")
	b.Screenshot(page, shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if sz := img.Bounds().Size(); sz.X != 1280 || sz.Y != 1100 {
		t.Errorf("screenshot is %v", sz)
	}
	t.Logf("screenshot of the HTML report: %s", shot)
}

func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && match(n) {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, find(c, match)...)
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(text(c))
	}
	return b.String()
}
