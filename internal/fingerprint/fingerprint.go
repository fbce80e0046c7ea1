package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Files summarises the files at paths by name, size, modification time and
// identity (a ConfigMap or Secret update in a pod swaps a symlink, which
// changes the inode Stat follows to). A directory stands for the files and
// subdirectories under it that keep accepts (rel is slash-separated, relative
// to the directory; a nil keep accepts all). Missing paths are part of the
// fingerprint, so a file appearing later is a change. The order of paths does
// not matter.
func Files(paths []string, keep func(rel string, dir bool) bool) string {
	if keep == nil {
		keep = func(string, bool) bool { return true }
	}
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
			if err != nil || q == p {
				return nil
			}
			rel, _ := filepath.Rel(p, q)
			if !keep(filepath.ToSlash(rel), d.IsDir()) {
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
