package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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

// Read reads every path: "-" is standard input, a directory is walked for
// .yaml, .yml and .json files. It returns the documents it could read and
// every error, positioned where possible.
func Read(paths []string, stdin io.Reader) ([]Doc, error) {
	var docs []Doc
	var errs charter.ErrorList
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(io.LimitReader(stdin, MaxFileSize+1))
			if err != nil {
				errs.Add(charter.Pos{File: "<stdin>"}, "read: %v", err)
				continue
			}
			d, e := Parse("<stdin>", data)
			docs, errs = append(docs, d...), append(errs, e...)
			continue
		}
		files, err := expand(p)
		if err != nil {
			errs.Add(charter.Pos{File: p}, "%v", err)
			continue
		}
		for _, f := range files {
			data, err := readFile(f)
			if err != nil {
				errs.Add(charter.Pos{File: f}, "%v", err)
				continue
			}
			d, e := Parse(f, data)
			docs, errs = append(docs, d...), append(errs, e...)
		}
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

// Parse splits data into documents. Empty documents are skipped but keep
// their index; a document that is not a mapping is an error.
func Parse(file string, data []byte) ([]Doc, charter.ErrorList) {
	var docs []Doc
	var errs charter.ErrorList
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, charter.SyntaxError(file, data, err))
			break
		}
		root := &n
		if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
			root = root.Content[0]
		}
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue
		}
		if root.Kind != yaml.MappingNode {
			errs.Add(charter.Pos{File: file, Line: root.Line, Col: root.Column}, "document %d is not an object", i)
			continue
		}
		v, err := charter.NodeValue(root)
		if err != nil {
			errs.Add(charter.Pos{File: file, Line: root.Line, Col: root.Column}, "document %d: %v", i, err)
			continue
		}
		docs = append(docs, Doc{File: file, Index: i, Line: root.Line, Object: v.(map[string]any)})
	}
	return docs, errs
}
