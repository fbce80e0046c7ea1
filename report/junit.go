package report

import (
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

// Stream keeps one test case per object (its name, and the messages of its
// findings); the document is written on Close, since it opens with the totals.
func (JUnit) Stream(w io.Writer, p Policy) Stream {
	return &junitStream{w: w, out: junitSuites{Name: "charter " + p.Name}, index: map[string]int{}}
}

type junitStream struct {
	w     io.Writer
	out   junitSuites
	index map[string]int // suite of each file
}

func (s *junitStream) Add(r Result) error {
	out := &s.out
	i, ok := s.index[r.File]
	if !ok {
		i = len(out.Suites)
		s.index[r.File] = i
		out.Suites = append(out.Suites, junitSuite{Name: r.File})
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
		out.Suites[i].Errors++
		out.Errors++
	case !r.Allowed:
		c.Failure = &junitFailure{Message: fmt.Sprintf("denied by %d article(s)", len(denied)), Type: "deny", Text: strings.Join(denied, "\n")}
		out.Suites[i].Failures++
		out.Failures++
	}
	c.SystemOut = strings.Join(other, "\n")
	out.Suites[i].Cases = append(out.Suites[i].Cases, c)
	out.Suites[i].Tests++
	out.Tests++
	return nil
}

func (s *junitStream) Close() error {
	if _, err := io.WriteString(s.w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(s.w)
	enc.Indent("", "  ")
	if err := enc.Encode(s.out); err != nil {
		return err
	}
	_, err := io.WriteString(s.w, "\n")
	return err
}
