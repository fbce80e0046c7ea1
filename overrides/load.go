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
	// WalkDir does not descend into a root that is a symbolic link (a
	// directory mounted or linked into place): walk where it points, and
	// name the files under dir as given.
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("overrides directory: %w", err)
	}
	var out []Entry
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".yaml", ".yml", ".json":
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			e := ReadFile(p)
			e.Source = filepath.Join(dir, rel)
			out = append(out, e)
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
