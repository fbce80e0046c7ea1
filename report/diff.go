package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sort"
	"strings"
)

// Change is how one object's decision differs between an old and a new
// policy: its verdict, the findings the new one adds and those it drops.
type Change struct {
	Object     Result      `json:"-"`
	Change     string      `json:"change"` // newly denied, newly allowed, findings changed
	OldAllowed bool        `json:"oldAllowed"`
	NewAllowed bool        `json:"newAllowed"`
	Added      []Violation `json:"added"`
	Removed    []Violation `json:"removed"`
}

// Change kinds.
const (
	NewlyDenied     = "newly denied"
	NewlyAllowed    = "newly allowed"
	FindingsChanged = "findings changed"
)

// Compare returns the change of one object decided by the old and the new
// policy (the same object, so Object is taken from new), and false when its
// verdict and findings (article, action, severity, message, field) are the
// same.
func Compare(old, new Result) (Change, bool) {
	c := Change{Object: new, OldAllowed: old.Allowed, NewAllowed: new.Allowed}
	c.Object.Violations = nil
	c.Added, c.Removed = subtract(new.Violations, old.Violations), subtract(old.Violations, new.Violations)
	switch {
	case old.Allowed && !new.Allowed:
		c.Change = NewlyDenied
	case !old.Allowed && new.Allowed:
		c.Change = NewlyAllowed
	case len(c.Added) > 0 || len(c.Removed) > 0:
		c.Change = FindingsChanged
	default:
		return Change{}, false
	}
	return c, true
}

func findingKey(v Violation) string {
	return strings.Join([]string{v.Article, v.Action, v.Severity, v.Message, v.Path}, "\x00")
}

// subtract is a minus b as multisets of findings, in a's order.
func subtract(a, b []Violation) []Violation {
	left := map[string]int{}
	for _, v := range b {
		left[findingKey(v)]++
	}
	out := []Violation{}
	for _, v := range a {
		if k := findingKey(v); left[k] > 0 {
			left[k]--
			continue
		}
		out = append(out, v)
	}
	return out
}

// Diff is an impact preview: the changed objects of all those compared.
type Diff struct {
	Old, New Policy
	Objects  int // objects decided under both
	Changes  []Change
}

// ArticleCount is how many findings of one article a change of policy adds
// and removes, and how many objects it newly denies.
type ArticleCount struct {
	Article     string `json:"article"`
	Added       int    `json:"added"`
	Removed     int    `json:"removed"`
	NewlyDenied int    `json:"newlyDenied"`
}

// Counts are the diff's totals: objects per change kind and findings per article.
func (d Diff) Counts() (byChange map[string]int, byArticle []ArticleCount) {
	byChange = map[string]int{NewlyDenied: 0, NewlyAllowed: 0, FindingsChanged: 0}
	arts := map[string]*ArticleCount{}
	get := func(id string) *ArticleCount {
		if arts[id] == nil {
			arts[id] = &ArticleCount{Article: id}
		}
		return arts[id]
	}
	for _, c := range d.Changes {
		byChange[c.Change]++
		denied := map[string]bool{}
		for _, v := range c.Added {
			get(v.Article).Added++
			if c.Change == NewlyDenied && v.Action == "deny" && !denied[v.Article] {
				denied[v.Article] = true
				get(v.Article).NewlyDenied++
			}
		}
		for _, v := range c.Removed {
			get(v.Article).Removed++
		}
	}
	for _, a := range arts {
		byArticle = append(byArticle, *a)
	}
	sort.Slice(byArticle, func(i, j int) bool { return byArticle[i].Article < byArticle[j].Article })
	return byChange, byArticle
}

// DiffWriter renders an impact preview.
type DiffWriter interface {
	WriteDiff(w io.Writer, d Diff) error
}

// DiffFormats lists the output names NewDiff accepts.
func DiffFormats() []string { return []string{"text", "json", "html"} }

// NewDiff returns the diff writer for a format name.
func NewDiff(format string, color bool) (DiffWriter, error) {
	switch format {
	case "text", "":
		return Text{Color: color}, nil
	case "json":
		return JSON{}, nil
	case "html":
		return HTML{}, nil
	}
	return nil, fmt.Errorf("unknown output %q (use one of: %s)", format, strings.Join(DiffFormats(), ", "))
}

func policyLabel(p Policy) string {
	if p.Version == "" {
		return p.Name
	}
	return p.Name + " " + p.Version
}

// WriteDiff prints each changed object with its added (+) and removed (-)
// findings, then the counts per change and per article.
func (t Text) WriteDiff(w io.Writer, d Diff) error {
	fmt.Fprintf(w, "impact of %s -> %s on %d objects\n", policyLabel(d.Old), policyLabel(d.New), d.Objects)
	for _, c := range d.Changes {
		mark := map[string]string{NewlyDenied: t.paint(red, "NEWLY DENIED"), NewlyAllowed: t.paint(green, "NEWLY ALLOWED"), FindingsChanged: t.paint(yellow, "CHANGED")}[c.Change]
		r := c.Object
		name := r.Name
		if r.Namespace != "" {
			name = r.Namespace + "/" + r.Name
		}
		fmt.Fprintf(w, "%s %s %s %s\n", mark, r.Kind, name, t.paint(dim, fmt.Sprintf("(%s#%d)", r.File, r.Index)))
		for _, v := range c.Added {
			fmt.Fprintf(w, "    + %-5s %-8s %s%s\n", v.Action, v.Article, v.Message, fieldSuffix(v))
		}
		for _, v := range c.Removed {
			fmt.Fprintf(w, "    - %-5s %-8s %s%s\n", v.Action, v.Article, v.Message, fieldSuffix(v))
		}
	}
	byChange, byArticle := d.Counts()
	fmt.Fprintf(w, "%d changed of %d objects: %d newly denied, %d newly allowed, %d with changed findings\n",
		len(d.Changes), d.Objects, byChange[NewlyDenied], byChange[NewlyAllowed], byChange[FindingsChanged])
	for _, a := range byArticle {
		fmt.Fprintf(w, "  %-8s +%d -%d findings, %d objects newly denied\n", a.Article, a.Added, a.Removed, a.NewlyDenied)
	}
	return nil
}

func fieldSuffix(v Violation) string {
	if v.Path == "" {
		return ""
	}
	return " (at " + v.Path + ")"
}

type jsonChange struct {
	File      string `json:"file"`
	Index     int    `json:"index"`
	Line      int    `json:"line,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Change
}

// WriteDiff writes {"old":..., "new":..., "objects": N, "counts": ...,
// "articles": [...], "changes": [...]}.
func (JSON) WriteDiff(w io.Writer, d Diff) error {
	byChange, byArticle := d.Counts()
	changes := make([]jsonChange, 0, len(d.Changes))
	for _, c := range d.Changes {
		r := c.Object
		changes = append(changes, jsonChange{File: r.File, Index: r.Index, Line: r.Line, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Change: c})
	}
	if byArticle == nil {
		byArticle = []ArticleCount{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(map[string]any{
		"old":     map[string]string{"name": d.Old.Name, "version": d.Old.Version, "revision": d.Old.Revision},
		"new":     map[string]string{"name": d.New.Name, "version": d.New.Version, "revision": d.New.Revision},
		"objects": d.Objects, "counts": byChange, "articles": byArticle, "changes": changes,
	})
}

var diffColumns = []htmlColumn{
	{"change", "Change", "text"}, {"diff", "+/-", "text"}, {"severity", "Severity", "severity"}, {"action", "Action", "text"},
	{"article", "Article", "text"}, {"kind", "Kind", "text"}, {"namespace", "Namespace", "text"}, {"name", "Name", "text"},
	{"field", "Field", "text"}, {"message", "Message", "text"},
}

// WriteDiff is the impact preview as a page: tiles per change kind, charts
// of the findings the new policy adds (by article, namespace, severity), a
// table of per-article counts and a sortable table of every added and
// removed finding.
func (HTML) WriteDiff(w io.Writer, d Diff) error {
	byChange, byArticle := d.Counts()
	pd := htmlPageData{
		Title:    fmt.Sprintf("charter impact preview: %s -> %s", policyLabel(d.Old), policyLabel(d.New)),
		Subtitle: fmt.Sprintf("%d objects decided under both; charts count the findings the new policy adds", d.Objects),
		Columns:  diffColumns,
		Data:     []htmlFinding{},
		Script:   template.JS(htmlScript),
		Tiles: []htmlTile{{"objects", "objects", d.Objects}, {"changed", "changed", len(d.Changes)},
			{"newly-denied", "newly denied", byChange[NewlyDenied]}, {"newly-allowed", "newly allowed", byChange[NewlyAllowed]},
			{"findings-changed", "findings changed", byChange[FindingsChanged]}},
	}
	var b strings.Builder
	b.WriteString(`<table id="articles" class="card"><thead><tr><th>Article</th><th>Added</th><th>Removed</th><th>Newly denied</th></tr></thead><tbody>`)
	for _, a := range byArticle {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td></tr>", template.HTMLEscapeString(a.Article), a.Added, a.Removed, a.NewlyDenied)
	}
	b.WriteString("</tbody></table><p></p>")
	pd.Before = template.HTML(b.String())
	for _, c := range d.Changes {
		r := c.Object
		for _, side := range []struct {
			sign string
			vs   []Violation
		}{{"+", c.Added}, {"-", c.Removed}} {
			sign := side.sign
			for _, v := range side.vs {
				if sign == "+" {
					pd.Data = append(pd.Data, htmlFinding{Article: v.Article, Namespace: r.Namespace, Severity: v.Severity, Action: v.Action})
				}
				pd.Rows = append(pd.Rows, []htmlCell{{Text: c.Change}, {Text: sign}, {Text: v.Severity, Sort: v.Severity}, {Text: v.Action, Class: v.Action},
					{Text: v.Article}, {Text: r.Kind}, {Text: r.Namespace}, {Text: r.Name}, {Text: v.Path, Class: "field"}, {Text: v.Message, Class: "message"}})
			}
		}
		if len(c.Added)+len(c.Removed) == 0 {
			pd.Rows = append(pd.Rows, []htmlCell{{Text: c.Change}, {}, {}, {}, {}, {Text: r.Kind}, {Text: r.Namespace}, {Text: r.Name}, {}, {}})
		}
	}
	slices.SortStableFunc(pd.Rows, func(a, b []htmlCell) int { return strings.Compare(a[0].Text, b[0].Text) })
	return pageTemplate.Execute(w, pd)
}
