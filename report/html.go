package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
)

// HTML writes one self-contained page for people: summary tiles, bar charts
// of the findings by article, namespace and severity (inline SVG drawn by
// the page's own script), and a sortable table of every finding with its
// message and field. It fetches nothing: styles, script and data are inline
// and its Content-Security-Policy allows no network.
type HTML struct{}

var (
	//go:embed assets/report.html
	htmlPage string
	//go:embed assets/report.js
	htmlScript string

	pageTemplate = template.Must(template.New("report").Parse(htmlPage))
)

// htmlFinding is one finding as the page's script reads it.
type htmlFinding struct {
	Article   string `json:"article"`
	Namespace string `json:"namespace"`
	Severity  string `json:"severity"`
	Action    string `json:"action"`
}

type htmlTile struct {
	Key, Label string
	Value      int
}

type htmlColumn struct{ Key, Label, Type string }

type htmlCell struct{ Text, Class, Sort string }

type htmlPageData struct {
	Title, Subtitle string
	Tiles           []htmlTile
	Before          template.HTML
	ExtraCSS        template.CSS
	Columns         []htmlColumn
	Rows            [][]htmlCell
	Data            []htmlFinding
	Script          template.JS
}

var findingColumns = []htmlColumn{
	{"severity", "Severity", "severity"}, {"action", "Action", "text"}, {"article", "Article", "text"},
	{"kind", "Kind", "text"}, {"namespace", "Namespace", "text"}, {"name", "Name", "text"},
	{"field", "Field", "text"}, {"message", "Message", "text"}, {"source", "Source", "text"},
}

func findingRow(r Result, v Violation) []htmlCell {
	src := r.File
	if v.Line > 0 {
		src = fmt.Sprintf("%s:%d:%d", r.File, v.Line, v.Column)
	} else if r.Line > 0 {
		src = fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	return []htmlCell{
		{Text: v.Severity, Sort: v.Severity}, {Text: v.Action, Class: v.Action}, {Text: v.Article},
		{Text: r.Kind}, {Text: r.Namespace}, {Text: r.Name},
		{Text: v.Path, Class: "field"}, {Text: v.Message, Class: "message"}, {Text: src, Sort: r.File + "\x00" + fmt.Sprintf("%09d", v.Line)},
	}
}

func (HTML) Write(w io.Writer, p Policy, results []Result) error {
	d := htmlPageData{
		Title:    "charter report: " + p.Name,
		Subtitle: fmt.Sprintf("charter %s %s, revision %s", p.Name, p.Version, p.Revision),
		Columns:  findingColumns,
		Data:     []htmlFinding{},
		Script:   template.JS(htmlScript),
	}
	var denied, warned, findings int
	for _, r := range results {
		if !r.Allowed {
			denied++
		}
		vs := append([]Violation(nil), r.Violations...)
		sort.SliceStable(vs, func(i, j int) bool { return rank(vs[i].Action) < rank(vs[j].Action) })
		for _, v := range vs {
			findings++
			if v.Action == "warn" {
				warned++
			}
			d.Data = append(d.Data, htmlFinding{Article: v.Article, Namespace: r.Namespace, Severity: v.Severity, Action: v.Action})
			d.Rows = append(d.Rows, findingRow(r, v))
		}
	}
	d.Tiles = []htmlTile{
		{"objects", "objects", len(results)}, {"denied", "denied", denied},
		{"allowed", "allowed", len(results) - denied}, {"warnings", "warnings", warned}, {"findings", "findings", findings},
	}
	return pageTemplate.Execute(w, d)
}
