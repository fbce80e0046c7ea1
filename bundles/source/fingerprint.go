package source

import (
	"crypto/sha256"
	"encoding/hex"
	"github.com/charter-dev/charter/bundles"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// fingerprint summarises the files at paths by what changes when they are
// rewritten: name, size, modification time and identity (a ConfigMap or
// Secret update in a pod swaps a symlink, which changes the inode). A
// directory stands for the files and subdirectories under it that keep
// accepts (rel is slash-separated, relative to the directory). Missing
// paths are part of the fingerprint, so a file appearing later is a change.
func fingerprint(paths []string, keep func(rel string, dir bool) bool) string {
	h := sha256.New()
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	add := func(p string, fi fs.FileInfo) {
		h.Write([]byte(p + "\x00" + fi.ModTime().UTC().Format(time.RFC3339Nano) + "\x00" + fileID(fi) + "\x00"))
	}
	for _, p := range sorted {
		fi, err := os.Stat(p)
		if err != nil {
			h.Write([]byte("missing:" + p + "\x00"))
			continue
		}
		if !fi.IsDir() {
			add(p, fi)
			continue
		}
		_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(p, q)
			rel = filepath.ToSlash(rel)
			if q == p {
				return nil
			}
			if !keep(rel, d.IsDir()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if fi, err := os.Stat(q); err == nil {
				add(q, fi)
			}
			return nil
		})
	}
	return "files:" + hex.EncodeToString(h.Sum(nil))
}

// charterPart is what a charter directory is made of, as charter.LoadPaths
// walks it: .yaml and .yml files outside hidden and testdata directories.
func charterPart(rel string, dir bool) bool {
	if dir {
		name := path.Base(rel)
		return name != "testdata" && !strings.HasPrefix(name, ".")
	}
	switch strings.ToLower(path.Ext(rel)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

// bundlePart is what a bundle directory is made of.
func bundlePart(rel string, dir bool) bool { return dir || bundles.IsBundleFile(rel) }
