package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Violation is one finding on one object, as reports show it.
type Violation struct {
	Article  string `json:"article"`
	Action   string `json:"action"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Path     string `json:"path,omitempty"`   // the field, as the engine names it
	Line     int    `json:"line,omitempty"`   // the field's line in File (0: unknown)
	Column   int    `json:"column,omitempty"` // and its column
	// Override names the verified override that lifted this denial (then
	// Action is warn).
	Override string `json:"override,omitempty"`
}

// Result is the decision on one object.
type Result struct {
	File       string      `json:"file"`
	Index      int         `json:"index"`
	Line       int         `json:"line,omitempty"` // first line of the object, when known
	APIVersion string      `json:"-"`
	Kind       string      `json:"kind"`
	Namespace  string      `json:"namespace"`
	Name       string      `json:"name"`
	Allowed    bool        `json:"allowed"`
	Violations []Violation `json:"violations"`
	// ArticlesApplied is how many articles applied to the object (matched
	// it and had something to check); 0: none did, so the object was
	// skipped, not passed. nil when unknown (OPA decided alone).
	ArticlesApplied *int `json:"articlesApplied,omitempty"`
	// Error says why the object could not be decided; then Allowed is
	// false and there are no Violations. Every format shows such an object,
	// so a reader of the report alone sees that it was not checked.
	Error string `json:"error,omitempty"`
}

// Skipped reports whether no article applied to the object: it is allowed
// because nothing checked it, not because it passed a check.
func (r Result) Skipped() bool {
	return r.Error == "" && r.Allowed && len(r.Violations) == 0 && r.ArticlesApplied != nil && *r.ArticlesApplied == 0
}

// Applied is n as a Result's ArticlesApplied: nil when n < 0 (unknown).
func Applied(n int) *int {
	if n < 0 {
		return nil
	}
	return &n
}

// Policy describes what decided: the charter and its articles.
type Policy struct {
	Name     string
	Version  string
	Revision string
	Articles map[string]Article
}

// Article is what reports show of an article besides its findings.
type Article struct {
	Title       string
	Description string
	Severity    string
	Action      string
}

// Writer renders results: all at once with Write, or one at a time as they
// are decided with Stream (a scan of any size then keeps no Result).
type Writer interface {
	Write(w io.Writer, p Policy, results []Result) error
	Stream(w io.Writer, p Policy) Stream
}

// Formats lists the output names New accepts.
func Formats() []string { return []string{"text", "json", "sarif", "junit", "policyreport", "html"} }

// New returns the writer for a format name. color applies to text only.
func New(format string, color bool) (Writer, error) {
	switch format {
	case "text", "":
		return Text{Color: color}, nil
	case "json":
		return JSON{}, nil
	case "sarif":
		return SARIF{}, nil
	case "junit":
		return JUnit{}, nil
	case "policyreport":
		return PolicyReport{}, nil
	case "html":
		return HTML{}, nil
	}
	return nil, fmt.Errorf("unknown output %q (use one of: %s)", format, strings.Join(Formats(), ", "))
}

// JSON writes {"results": [...]}.
type JSON struct{}

func (j JSON) Write(w io.Writer, p Policy, results []Result) error {
	return writeAll(j.Stream(w, p), results)
}

// Stream writes each result as it comes: the bytes are those of encoding
// the whole document at once.
func (JSON) Stream(w io.Writer, _ Policy) Stream {
	return jsonStream{newArrayStream(w, struct {
		Results []Result `json:"results"`
	}{[]Result{}}, "results")}
}

type jsonStream struct{ a *arrayStream }

func (s jsonStream) Add(r Result) error {
	if r.Violations == nil {
		r.Violations = []Violation{}
	}
	return s.a.add(r)
}

func (s jsonStream) Close() error { return s.a.close() }

// Text writes results grouped by object, for people: PASS, WARN, DENY,
// SKIP (no article applies: allowed without a check, as eval --explain
// says) or ERROR (could not be decided), and the counts at the end.
type Text struct{ Color bool }

const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	green  = "\x1b[32m"
	dim    = "\x1b[2m"
	reset  = "\x1b[0m"
)

func (t Text) paint(color, s string) string {
	if !t.Color {
		return s
	}
	return color + s + reset
}

func (t Text) Write(w io.Writer, p Policy, results []Result) error {
	return writeAll(t.Stream(w, p), results)
}

// Stream prints each object as it comes and the counts at the end.
func (t Text) Stream(w io.Writer, _ Policy) Stream { return &textStream{t: t, w: w} }

type textStream struct {
	t                                         Text
	w                                         io.Writer
	objects, denied, warned, skipped, errored int
	err                                       error
}

func (s *textStream) Add(r Result) error {
	if s.err != nil {
		return s.err
	}
	t, w := s.t, s.w
	s.objects++
	mark := t.paint(green, "PASS")
	switch {
	case r.Error != "":
		mark = t.paint(red, "ERROR")
		s.errored++
	case !r.Allowed:
		mark = t.paint(red, "DENY")
		s.denied++
	case len(r.Violations) > 0:
		mark = t.paint(yellow, "WARN")
	case r.Skipped():
		mark = t.paint(dim, "SKIP")
		s.skipped++
	}
	name := r.Name
	if r.Namespace != "" {
		name = r.Namespace + "/" + r.Name
	}
	_, s.err = fmt.Fprintf(w, "%s %s %s %s\n", mark, r.Kind, name, t.paint(dim, fmt.Sprintf("(%s#%d)", r.File, r.Index)))
	if r.Error != "" {
		fmt.Fprintf(w, "    %s %s\n", t.paint(red, "error"), r.Error)
	}
	for _, v := range byAction(r.Violations) {
		color := map[string]string{"deny": red, "warn": yellow, "audit": cyan}[v.Action]
		if v.Action == "warn" {
			s.warned++
		}
		fmt.Fprintf(w, "    %s %-8s %s\n", t.paint(color, fmt.Sprintf("%-5s", v.Action)), v.Article, v.Message)
		if v.Path != "" {
			fmt.Fprintf(w, "          %s\n", t.paint(dim, "at "+v.Path))
		}
	}
	return s.err
}

func (s *textStream) Close() error {
	if s.err != nil {
		return s.err
	}
	errored := ""
	if s.errored > 0 {
		errored = fmt.Sprintf(", %d could not be decided", s.errored)
	}
	_, s.err = fmt.Fprintf(s.w, "%d objects: %d allowed, %d denied, %d warnings, %d skipped (no article applies)%s\n",
		s.objects, s.objects-s.denied-s.errored, s.denied, s.warned, s.skipped, errored)
	return s.err
}

// byAction is vs with denials first, then warnings, then the rest, each in
// its order.
func byAction(vs []Violation) []Violation {
	vs = append([]Violation(nil), vs...)
	sort.SliceStable(vs, func(i, j int) bool { return rank(vs[i].Action) < rank(vs[j].Action) })
	return vs
}

func rank(action string) int {
	switch action {
	case "deny":
		return 0
	case "warn":
		return 1
	}
	return 2
}
