package bundles

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// IsBundleFile reports whether a bundle-relative name is one OPA reads from a
// bundle directory (policy, data, manifest, signatures, wasm). Everything else
// in a directory (a .git, a README) is not part of the bundle: reading skips
// it and writing never touches it.
func IsBundleFile(name string) bool {
	switch path.Base(name) {
	case ".manifest", ".signatures.json", "data.json", "data.yaml", "patch.json", "plan.json":
		return true
	}
	return strings.HasSuffix(name, ".rego") || strings.HasSuffix(name, ".wasm")
}

func readDir(dir string) (Files, error) {
	files := Files{}
	var total int64
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !IsBundleFile(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		total += int64(len(data))
		if total > MaxSize {
			return fmt.Errorf("bundle larger than %d bytes", MaxSize)
		}
		files[rel] = data
		return nil
	})
	return files, err
}

// WriteDir writes the files under dir. An earlier bundle there is replaced
// file by file: only the files charter wrote (those whose content the
// earlier manifest's revision covers) are removed, and every other file in
// dir, a .git or notes included, stays. A directory whose bundle files do
// not match their manifest (edited or added by hand, or not built by charter)
// and a non-empty directory without a bundle are refused before anything is
// touched.
func (f Files) WriteDir(dir string) error {
	old, err := earlierBundle(dir)
	if err != nil {
		return err
	}
	for _, n := range old.Names() {
		if _, keep := f[n]; keep {
			continue
		}
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(n))); err != nil {
			return fmt.Errorf("remove %s of the earlier bundle: %w", n, err)
		}
	}
	removeEmptyParents(dir, old)
	for _, n := range f.Names() {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// earlierBundle returns the bundle files already in dir, after checking that
// charter wrote them; nil for a missing or empty directory.
func earlierBundle(dir string) (Files, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	case len(entries) == 0:
		return nil, nil
	}
	old, err := readDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read the earlier bundle in %s: %w", dir, err)
	}
	if _, ok := old[".manifest"]; !ok {
		return nil, fmt.Errorf("%s is not empty and holds no bundle (no .manifest); refusing to write into it", dir)
	}
	m, err := old.Manifest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w; refusing to overwrite it", dir, err)
	}
	if !strings.HasPrefix(m.Revision, "sha256:") {
		return nil, fmt.Errorf("%s holds a bundle charter did not build (revision %q); refusing to overwrite it", dir, m.Revision)
	}
	if got := old.digest(); got != m.Revision {
		return nil, fmt.Errorf("%s: its bundle files were changed or added since charter wrote them (manifest revision %s, files hash to %s); refusing to overwrite them", dir, m.Revision, got)
	}
	return old, nil
}

// removeEmptyParents removes the directories the earlier bundle's files left
// empty, deepest first, never dir itself or a directory holding anything else.
func removeEmptyParents(dir string, old Files) {
	seen := map[string]bool{}
	var parents []string
	for n := range old {
		for d := path.Dir(n); d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			parents = append(parents, d)
		}
	}
	sort.Slice(parents, func(i, j int) bool { return len(parents[i]) > len(parents[j]) })
	for _, d := range parents {
		// os.Remove fails on a non-empty directory, which is what keeps user files safe.
		_ = os.Remove(filepath.Join(dir, filepath.FromSlash(d)))
	}
}
