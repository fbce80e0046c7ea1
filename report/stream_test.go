package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// encodeWhole is how the json-based formats were written before they
// streamed: the whole document encoded at once.
func encodeWhole(t *testing.T, doc any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// streamResults are results whose messages hold what JSON escapes or
// HTML-escapes, spread over namespaces and cluster scope; every fifth
// could not be decided.
func streamResults(n int) []Result {
	var rs []Result
	for i := range n {
		r := Result{File: fmt.Sprintf("dir/f %d.yaml", i/3), Index: i % 3, Line: 1 + 10*(i%3), APIVersion: "v1", Kind: "Pod", Namespace: []string{"a", "b", ""}[i%3], Name: fmt.Sprintf("p%d", i), Allowed: i%2 == 1}
		if i%2 == 0 {
			r.Violations = append(r.Violations, Violation{Article: "AD-001", Action: "deny", Severity: "critical", Message: fmt.Sprintf("<b>%d</b> & \"quoted\"\nsecond line", i), Path: "spec.containers[0]", Line: 4, Column: 5})
		}
		if i%4 == 0 {
			r.Violations = append(r.Violations, Violation{Article: "AD-014", Action: "warn", Severity: "medium", Message: "results: [] in a message"})
		}
		if i%5 == 4 {
			r.Allowed, r.Violations, r.Error = false, nil, fmt.Sprintf("evaluate: <%d> & \"conflict\"", i)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestStreamsEncodeAsWholeDocuments: json, sarif, policyreport and junit written
// one result at a time are byte for byte the document encoded at once
// (decoded into its types and encoded again), for no, one and many
// results, with messages that hold quotes, markup and "results: []".
func TestStreamsEncodeAsWholeDocuments(t *testing.T) {
	for _, n := range []int{0, 1, 2, 25} {
		rs := streamResults(n)
		for _, format := range []string{"json", "sarif", "policyreport", "junit"} {
			t.Run(fmt.Sprintf("%s/%d", format, n), func(t *testing.T) {
				w, err := New(format, false)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				s := w.Stream(&b, policy)
				for _, r := range rs {
					if err := s.Add(r); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				var whole string
				switch format {
				case "json":
					var doc struct {
						Results []Result `json:"results"`
					}
					if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
						t.Fatalf("%v\n%s", err, b.String())
					}
					if len(doc.Results) != n {
						t.Fatalf("%d results, want %d", len(doc.Results), n)
					}
					whole = encodeWhole(t, doc)
				case "sarif":
					var doc sarifLog
					if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
						t.Fatalf("%v\n%s", err, b.String())
					}
					findings := 0
					for _, r := range rs {
						findings += len(r.Violations)
						if r.Error != "" {
							findings++
						}
					}
					if len(doc.Runs) != 1 || len(doc.Runs[0].Results) != findings || len(doc.Runs[0].Tool.Driver.Rules) != len(policy.Articles)+1 {
						t.Fatalf("sarif = %+v, want %d results", doc, findings)
					}
					whole = encodeWhole(t, doc)
				case "junit":
					var doc junitSuites
					if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
						t.Fatalf("%v\n%s", err, b.String())
					}
					if doc.Tests != n || len(doc.Suites) != (n+2)/3 {
						t.Fatalf("junit: %d tests in %d suites, want %d in %d", doc.Tests, len(doc.Suites), n, (n+2)/3)
					}
					var e bytes.Buffer
					e.WriteString(xml.Header)
					enc := xml.NewEncoder(&e)
					enc.Indent("", "  ")
					if err := enc.Encode(doc); err != nil {
						t.Fatal(err)
					}
					whole = e.String() + "\n"
				case "policyreport":
					var doc struct {
						Items []*prReport `json:"items"`
					}
					if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
						t.Fatalf("%v\n%s", err, b.String())
					}
					whole = encodeWhole(t, map[string]any{"apiVersion": "v1", "kind": "List", "items": doc.Items})
				}
				if b.String() != whole {
					t.Errorf("streamed:\n%s\nwhole:\n%s", b.String(), whole)
				}
				if n > 0 && strings.Contains(b.String(), `\u003c`) {
					t.Error("markup in messages was HTML-escaped")
				}
			})
		}
	}
}

// TestStreamsWriteAsTheyGo: text, json and sarif have written each result
// once Add returns (nothing waits for Close); the formats that open with
// totals write nothing before Close and their totals count every result.
func TestStreamsWriteAsTheyGo(t *testing.T) {
	rs := streamResults(6)
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			w, err := New(format, false)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			s := w.Stream(&b, policy)
			incremental := format == "text" || format == "json" || format == "sarif"
			for i, r := range rs {
				if err := s.Add(r); err != nil {
					t.Fatal(err)
				}
				has := strings.Contains(b.String(), r.Name) || strings.Contains(b.String(), "Pod/"+r.Namespace+"/"+r.Name)
				if format == "sarif" && len(r.Violations) == 0 && r.Error == "" {
					continue // an object without findings has no SARIF result
				}
				if incremental != has {
					t.Fatalf("after result %d, output holds it: %v, want %v\n%s", i, has, incremental, b.String())
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			var whole bytes.Buffer
			if err := w.Write(&whole, policy, rs); err != nil {
				t.Fatal(err)
			}
			if whole.String() != b.String() {
				t.Errorf("Write and Stream differ:\n%s\n---\n%s", whole.String(), b.String())
			}
		})
	}
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

// TestStreamWriteErrors: a failing output is reported by Add or Close, and
// every later call repeats it instead of writing half a document.
func TestStreamWriteErrors(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			w, _ := New(format, false)
			s := w.Stream(&failingWriter{after: 1}, policy)
			var err error
			for _, r := range streamResults(4) {
				if err = s.Add(r); err != nil {
					break
				}
			}
			if err == nil {
				err = s.Close()
			}
			if err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("err = %v, want disk full", err)
			}
		})
	}
}
