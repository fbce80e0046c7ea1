package overrides

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Entry is one override document as a source holds it: parsed, or the
// reason it could not be (then it is ignored, and says why).
type Entry struct {
	Source string // file path, or the object's namespace/name
	Doc    *Document
	Err    error // a *Failure (malformed) or a read error
}

// ReadDir reads every .yaml, .yml and .json file below dir (hidden
// directories skipped), one Override document per file, sorted by path.
// A file that does not parse is an Entry with its error; only an unreadable
// directory is an error.
func ReadDir(dir string) ([]Entry, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("overrides directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("overrides directory %s is not a directory", dir)
	}
	var out []Entry
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".yaml", ".yml", ".json":
			out = append(out, ReadFile(p))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read overrides directory: %w", err)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Source, b.Source) })
	return out, nil
}

// ReadFile reads one override file.
func ReadFile(path string) Entry {
	e := Entry{Source: path}
	f, err := os.Open(path)
	if err != nil {
		e.Err = err
		return e
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxDocumentSize+1))
	if err != nil {
		e.Err = fmt.Errorf("read %s: %w", path, err)
		return e
	}
	e.Doc, e.Err = Parse(data)
	return e
}
