package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

// HTML writes one self-contained page for people: summary tiles, bar charts
// of the findings by article, namespace and severity (inline SVG drawn by
// the page's own script), and a sortable table of every finding with its
// message and field; an object that could not be decided is a row of
// action error naming the error, counted in an errors tile. It fetches nothing: styles, script and data are inline
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

// errorRow is the table row of an object that could not be decided.
func errorRow(r Result) []htmlCell {
	src := r.File
	if r.Line > 0 {
		src = fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	return []htmlCell{
		{}, {Text: "error", Class: "deny"}, {Text: DecisionErrorRule},
		{Text: r.Kind}, {Text: r.Namespace}, {Text: r.Name},
		{Class: "field"}, {Text: "could not be decided: " + r.Error, Class: "message"}, {Text: src, Sort: r.File + "\x00" + fmt.Sprintf("%09d", r.Line)},
	}
}

func (h HTML) Write(w io.Writer, p Policy, results []Result) error {
	return writeAll(h.Stream(w, p), results)
}

// Stream keeps each finding's row and chart entry, and only counts the
// objects; the page is written on Close, since it opens with the totals.
func (HTML) Stream(w io.Writer, p Policy) Stream {
	return &htmlStream{w: w, d: htmlPageData{
		Title:    "charter report: " + p.Name,
		Subtitle: fmt.Sprintf("charter %s %s, revision %s", p.Name, p.Version, p.Revision),
		Columns:  findingColumns,
		Data:     []htmlFinding{},
		Script:   template.JS(htmlScript),
	}}
}

type htmlStream struct {
	w                                          io.Writer
	d                                          htmlPageData
	objects, denied, warned, findings, errored int
}

func (s *htmlStream) Add(r Result) error {
	s.objects++
	if r.Error != "" {
		s.errored++
		s.d.Rows = append(s.d.Rows, errorRow(r))
		return nil
	}
	if !r.Allowed {
		s.denied++
	}
	for _, v := range byAction(r.Violations) {
		s.findings++
		if v.Action == "warn" {
			s.warned++
		}
		s.d.Data = append(s.d.Data, htmlFinding{Article: v.Article, Namespace: r.Namespace, Severity: v.Severity, Action: v.Action})
		s.d.Rows = append(s.d.Rows, findingRow(r, v))
	}
	return nil
}

func (s *htmlStream) Close() error {
	s.d.Tiles = []htmlTile{
		{"objects", "objects", s.objects}, {"denied", "denied", s.denied},
		{"allowed", "allowed", s.objects - s.denied - s.errored}, {"warnings", "warnings", s.warned}, {"findings", "findings", s.findings},
	}
	if s.errored > 0 {
		s.d.Tiles = append(s.d.Tiles, htmlTile{"errors", "could not be decided", s.errored})
	}
	return pageTemplate.Execute(s.w, s.d)
}
