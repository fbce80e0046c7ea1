package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strings"
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
	// DataJS, when set, stands for Data: the findings as a JSON array the
	// stream wrote itself.
	DataJS template.JS
	Script template.JS
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

// Stream writes each finding's table row and chart entry to spools as it
// comes, and only counts the objects; Close renders the page (it opens with
// the totals) around them.
func (HTML) Stream(w io.Writer, p Policy) Stream {
	return &htmlStream{w: w, rows: newSpool(), data: newSpool(), d: htmlPageData{
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
	rows, data                                 *spool // the table's rows; the chart entries, comma-separated
	objects, denied, warned, findings, errored int
	err                                        error
}

func (s *htmlStream) Add(r Result) error {
	if s.err != nil {
		return s.err
	}
	s.objects++
	if r.Error != "" {
		s.errored++
		s.err = pageTemplate.ExecuteTemplate(s.rows, "row", errorRow(r))
		return s.err
	}
	if !r.Allowed {
		s.denied++
	}
	for _, v := range byAction(r.Violations) {
		if v.Action == "warn" {
			s.warned++
		}
		if s.err = pageTemplate.ExecuteTemplate(s.rows, "row", findingRow(r, v)); s.err != nil {
			return s.err
		}
		// Marshal escapes <, > and &: the array cannot end its script element.
		b, err := json.Marshal(htmlFinding{Article: v.Article, Namespace: r.Namespace, Severity: v.Severity, Action: v.Action})
		if err != nil {
			s.err = err
			return err
		}
		if s.findings > 0 {
			b = append([]byte{','}, b...)
		}
		if _, s.err = s.data.Write(b); s.err != nil {
			return s.err
		}
		s.findings++
	}
	return nil
}

// dataMark stands for the chart entries in the rendered page; rowsMark is
// where the rows go.
const (
	dataMark = "\x00charter-findings\x00"
	rowsMark = "<tbody>\n"
)

func (s *htmlStream) Close() error {
	defer s.rows.Close()
	defer s.data.Close()
	if s.err != nil {
		return s.err
	}
	s.d.Tiles = []htmlTile{
		{"objects", "objects", s.objects}, {"denied", "denied", s.denied},
		{"allowed", "allowed", s.objects - s.denied - s.errored}, {"warnings", "warnings", s.warned}, {"findings", "findings", s.findings},
	}
	if s.errored > 0 {
		s.d.Tiles = append(s.d.Tiles, htmlTile{"errors", "could not be decided", s.errored})
	}
	s.d.DataJS = dataMark
	var page bytes.Buffer
	if s.err = pageTemplate.Execute(&page, s.d); s.err != nil {
		return s.err
	}
	text := page.String()
	rowsAt, dataAt := strings.Index(text, rowsMark)+len(rowsMark), strings.Index(text, dataMark)
	if rowsAt < len(rowsMark) || dataAt < rowsAt {
		s.err = errors.New("report: the page template lost its table body or data")
		return s.err
	}
	for _, part := range []func() error{
		func() error { _, err := io.WriteString(s.w, text[:rowsAt]); return err },
		func() error { _, err := s.rows.WriteTo(s.w); return err },
		func() error { _, err := io.WriteString(s.w, text[rowsAt:dataAt]+"["); return err },
		func() error { _, err := s.data.WriteTo(s.w); return err },
		func() error { _, err := io.WriteString(s.w, "]"+text[dataAt+len(dataMark):]); return err },
	} {
		if s.err = part(); s.err != nil {
			return s.err
		}
	}
	return nil
}
