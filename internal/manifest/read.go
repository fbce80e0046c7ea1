package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/charter-dev/charter/charter"
	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds one input file.
const MaxFileSize = 64 << 20

// Doc is one object read from an input.
type Doc struct {
	File   string
	Index  int // document index within the file, from 0
	Line   int // line the document starts on
	Object map[string]any
}

// Kind, Namespace and Name read the object's identity for reports.
func (d Doc) Kind() string      { return str(d.Object, "kind") }
func (d Doc) Namespace() string { return str(meta(d.Object), "namespace") }
func (d Doc) Name() string      { return str(meta(d.Object), "name") }

// APIVersion is the object's apiVersion (the carried object's, for an AdmissionReview).
func (d Doc) APIVersion() string {
	if d.Object["kind"] == "AdmissionReview" {
		if req, ok := d.Object["request"].(map[string]any); ok {
			if obj, ok := req["object"].(map[string]any); ok {
				return str(obj, "apiVersion")
			}
		}
	}
	return str(d.Object, "apiVersion")
}

func meta(o map[string]any) map[string]any {
	// An AdmissionReview is reported by the object it carries.
	if o["kind"] == "AdmissionReview" {
		if req, ok := o["request"].(map[string]any); ok {
			if obj, ok := req["object"].(map[string]any); ok {
				m, _ := obj["metadata"].(map[string]any)
				return m
			}
		}
	}
	m, _ := o["metadata"].(map[string]any)
	return m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// Source is one input: a file, or standard input (already read).
type Source struct {
	Name  string
	stdin []byte
}

// Sources lists the inputs named by paths: "-" is standard input, a
// directory is walked for .yaml, .yml and .json files.
func Sources(paths []string, stdin io.Reader) ([]Source, charter.ErrorList) {
	var out []Source
	var errs charter.ErrorList
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(io.LimitReader(stdin, MaxFileSize+1))
			switch {
			case err != nil:
				errs.Add(charter.Pos{File: "<stdin>"}, "read: %v", err)
			case len(data) > MaxFileSize:
				errs.Add(charter.Pos{File: "<stdin>"}, "input larger than %d bytes", MaxFileSize)
			default:
				out = append(out, Source{Name: "<stdin>", stdin: data})
			}
			continue
		}
		files, err := expand(p)
		if err != nil {
			errs.Add(charter.Pos{File: p}, "%v", err)
			continue
		}
		for _, f := range files {
			out = append(out, Source{Name: f})
		}
	}
	return out, errs
}

// Docs reads and parses the source.
func (s Source) Docs() ([]Doc, charter.ErrorList) {
	data := s.stdin
	if data == nil {
		var err error
		if data, err = readFile(s.Name); err != nil {
			return nil, charter.ErrorList{{Pos: charter.Pos{File: s.Name}, Msg: err.Error()}}
		}
	}
	return Parse(s.Name, data)
}

// Read reads every path in order. It returns the documents it could read and
// every error, positioned where possible.
func Read(paths []string, stdin io.Reader) ([]Doc, error) {
	sources, errs := Sources(paths, stdin)
	var docs []Doc
	for _, s := range sources {
		d, e := s.Docs()
		docs, errs = append(docs, d...), append(errs, e...)
	}
	if len(errs) > 0 {
		return docs, errs
	}
	return docs, nil
}

func readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", MaxFileSize)
	}
	return data, nil
}

func expand(p string) ([]string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	if !fi.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(f string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if f != p && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(f) {
		case ".yaml", ".yml", ".json":
			out = append(out, f)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Parse splits data into documents and decodes each the way kubectl does
// (sigs.k8s.io/yaml: YAML 1.1 booleans such as yes/on are true, JSON numbers).
// Empty documents are skipped but keep their index; a document that is not a
// mapping is an error. Errors carry file:line:col.
func Parse(file string, data []byte) ([]Doc, charter.ErrorList) {
	var docs []Doc
	var errs charter.ErrorList
	for i, chunk := range splitDocuments(data) {
		if chunk.empty() {
			continue
		}
		obj, err := charter.DecodeKubernetes(chunk.text)
		if err != nil {
			errs = append(errs, chunk.error(file, err))
			continue
		}
		m, ok := obj.(map[string]any)
		if !ok {
			errs.Add(charter.Pos{File: file, Line: chunk.firstLine(), Col: 1}, "document %d is not an object", i)
			continue
		}
		docs = append(docs, Doc{File: file, Index: i, Line: chunk.firstLine(), Object: m})
	}
	return docs, errs
}

// chunk is one document's text and the line it starts on.
type chunk struct {
	text []byte
	line int // 1-based line of text[0] in the file
}

var separator = regexp.MustCompile(`^---(\s|$)`)

// splitDocuments cuts data at "---" lines, as kubectl does. Content after
// "--- " on the separator line belongs to the next document (columns kept).
// A leading part with only comments or blanks is not a document.
func splitDocuments(data []byte) []chunk {
	var out []chunk
	lines := bytes.SplitAfter(data, []byte("\n"))
	cur := chunk{line: 1}
	for n, l := range lines {
		if separator.Match(l) {
			if len(out) > 0 || !cur.empty() {
				out = append(out, cur)
			}
			rest := append(bytes.Repeat([]byte(" "), 3), l[3:]...)
			cur = chunk{text: rest, line: n + 1}
			continue
		}
		cur.text = append(cur.text, l...)
	}
	if len(out) == 0 || !cur.empty() || len(bytes.TrimSpace(cur.text)) > 0 {
		out = append(out, cur)
	}
	return out
}

// empty reports a document holding only blanks and comments.
func (c chunk) empty() bool {
	for _, l := range bytes.Split(c.text, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' {
			return false
		}
	}
	return true
}

// firstLine is the file line of the document's first content line.
func (c chunk) firstLine() int {
	for i, l := range bytes.Split(c.text, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' {
			return c.line + i
		}
	}
	return c.line
}

// error positions a decoding error. yaml.v3 and a second parser locate
// syntax errors; other errors point at the document's first line.
func (c chunk) error(file string, err error) *charter.Error {
	var n yaml.Node
	if v3err := yaml.Unmarshal(c.text, &n); v3err != nil {
		e := charter.SyntaxError(file, c.text, v3err)
		e.Pos.Line += c.line - 1
		return e
	}
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	return &charter.Error{Pos: charter.Pos{File: file, Line: c.firstLine(), Col: 1}, Msg: msg}
}
