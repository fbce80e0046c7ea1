package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit writes JUnit XML: one test suite per file, one test case per object;
// a denied object is a failure, an object that could not be decided an
// error, warnings and audits go to system-out.
type JUnit struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr,omitempty"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr,omitempty"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func (j JUnit) Write(w io.Writer, p Policy, results []Result) error {
	return writeAll(j.Stream(w, p), results)
}

// Stream writes each file's test suite once its last object came (results
// of one file come together; a file whose results come apart is a suite
// per run), to a spool, since the document opens with the totals; Close
// writes the totals and copies the suites. Only one file's test cases are
// in memory at a time.
func (JUnit) Stream(w io.Writer, p Policy) Stream {
	return &junitStream{w: w, out: junitSuites{Name: "charter " + p.Name}, body: newSpool()}
}

type junitStream struct {
	w    io.Writer
	out  junitSuites // the totals; Suites stays empty
	cur  *junitSuite // the suite of the file the last result came from
	body *spool      // the finished suites, each on its own line
	err  error
}

func (s *junitStream) Add(r Result) error {
	if s.err != nil {
		return s.err
	}
	out := &s.out
	if s.cur == nil || s.cur.Name != r.File {
		if s.err = s.flush(); s.err != nil {
			return s.err
		}
		s.cur = &junitSuite{Name: r.File}
	}
	c := junitCase{Name: fmt.Sprintf("%s #%d", objectName(r), r.Index), ClassName: r.File}
	var denied, other []string
	for _, v := range r.Violations {
		line := fmt.Sprintf("%s %s: %s", v.Action, v.Article, v.Message)
		if v.Action == "deny" {
			denied = append(denied, line)
		} else {
			other = append(other, line)
		}
	}
	switch {
	case r.Error != "":
		c.Error = &junitFailure{Message: "could not be decided", Type: "error", Text: r.Error}
		s.cur.Errors++
		out.Errors++
	case !r.Allowed:
		c.Failure = &junitFailure{Message: fmt.Sprintf("denied by %d article(s)", len(denied)), Type: "deny", Text: strings.Join(denied, "\n")}
		s.cur.Failures++
		out.Failures++
	}
	c.SystemOut = strings.Join(other, "\n")
	s.cur.Cases = append(s.cur.Cases, c)
	s.cur.Tests++
	out.Tests++
	return nil
}

// flush writes the current suite to the spool, indented as it sits in the
// whole document.
func (s *junitStream) flush() error {
	if s.cur == nil {
		return nil
	}
	if _, err := io.WriteString(s.body, "\n"); err != nil {
		return err
	}
	enc := xml.NewEncoder(s.body)
	enc.Indent("  ", "  ")
	err := enc.EncodeElement(s.cur, xml.StartElement{Name: xml.Name{Local: "testsuite"}})
	s.cur = nil
	return err
}

// Close writes the document: the bytes of encoding it whole.
func (s *junitStream) Close() error {
	defer s.body.Close()
	if s.err != nil {
		return s.err
	}
	if s.err = s.flush(); s.err != nil {
		return s.err
	}
	var head bytes.Buffer
	head.WriteString(xml.Header)
	enc := xml.NewEncoder(&head)
	enc.Indent("", "  ")
	if s.err = enc.Encode(s.out); s.err != nil {
		return s.err
	}
	doc := head.String()
	if s.body.Len() > 0 {
		doc = strings.TrimSuffix(doc, "</testsuites>")
	}
	if _, s.err = io.WriteString(s.w, doc); s.err != nil {
		return s.err
	}
	if s.body.Len() > 0 {
		if _, s.err = s.body.WriteTo(s.w); s.err != nil {
			return s.err
		}
		if _, s.err = io.WriteString(s.w, "\n</testsuites>"); s.err != nil {
			return s.err
		}
	}
	_, s.err = io.WriteString(s.w, "\n")
	return s.err
}
