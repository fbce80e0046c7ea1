package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/charter-dev/charter/charter"
	"gopkg.in/yaml.v3"
	"k8s.io/cli-runtime/pkg/resource"
)

// MaxFileSize bounds one input file.
const MaxFileSize = 64 << 20

// Doc is one object read from an input.
type Doc struct {
	File   string
	Index  int // object index within the file, from 0, in the order kubectl sends them
	Line   int // line the object starts on (0: unknown)
	Object map[string]any

	at    spot       // the document's text, for FieldPos
	items []int      // the list items path to the object within it
	node  *yaml.Node // the object's node when parsing kept it, for FieldPos
}

// Kind, Namespace and Name read the object's identity for reports.
func (d Doc) Kind() string      { return str(d.Object, "kind") }
func (d Doc) Namespace() string { return str(metadata(d.Object), "namespace") }
func (d Doc) Name() string      { return str(metadata(d.Object), "name") }

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

func metadata(o map[string]any) map[string]any {
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

// Sources lists the inputs named by paths as `kubectl apply -R -f` does: "-"
// is standard input, a directory is walked for .json, .yaml and .yml files
// (hidden ones too), a path that does not exist is a glob pattern.
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
	// Sized by the file's length when it has one, so the read does not grow
	// and copy the buffer (one allocation per file instead of a dozen).
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = min(st.Size(), MaxFileSize+1)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileSize+1)); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", MaxFileSize)
	}
	return data, nil
}

// expand lists the files `kubectl apply -R -f p` reads: p itself when it is
// a file (any extension), every .json, .yaml and .yml file below it when it
// is a directory (hidden directories and files included, symbolic links to
// directories not followed), or the matches of p as a glob pattern when no
// such path exists. The walk is cli-runtime's own.
func expand(p string) ([]string, error) {
	paths := []string{p}
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		matches, gerr := filepath.Glob(p)
		if gerr != nil {
			return nil, fmt.Errorf("pattern %q is not valid: %v", p, gerr)
		}
		if len(matches) == 0 {
			return nil, errors.Unwrap(err)
		}
		paths = matches
	}
	var out []string
	for _, m := range paths {
		if _, err := os.Stat(m); err != nil {
			return out, errors.Unwrap(err)
		}
		visitors, err := resource.ExpandPathsToFileVisitors(nil, m, true, resource.FileExtensions, nil)
		for _, v := range visitors {
			if f, ok := v.(*resource.FileVisitor); ok {
				out = append(out, f.Path)
			}
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
