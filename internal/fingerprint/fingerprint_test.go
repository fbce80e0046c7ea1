package fingerprint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFiles(t *testing.T) {
	onlyYAML := func(rel string, dir bool) bool { return dir || strings.HasSuffix(rel, ".yaml") }
	tests := []struct {
		name    string
		keep    func(rel string, dir bool) bool
		change  func(t *testing.T, dir string)
		changed bool
	}{
		{"nothing", nil, func(*testing.T, string) {}, false},
		{"content of the same size and time", nil, func(t *testing.T, dir string) {
			st, _ := os.Stat(filepath.Join(dir, "a.yaml"))
			write(t, filepath.Join(dir, "a.yaml"), "A")
			touch(t, filepath.Join(dir, "a.yaml"), st.ModTime())
		}, false},
		{"size", nil, func(t *testing.T, dir string) { write(t, filepath.Join(dir, "a.yaml"), "aa") }, true},
		{"modification time", nil, func(t *testing.T, dir string) {
			touch(t, filepath.Join(dir, "a.yaml"), time.Unix(1, 0))
		}, true},
		{"symlink swapped to an equal file", nil, func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "b2"), "b")
			st, _ := os.Stat(filepath.Join(dir, "b1"))
			touch(t, filepath.Join(dir, "b2"), st.ModTime())
			if err := os.Remove(filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("b2", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"missing path appears", nil, func(t *testing.T, dir string) { write(t, filepath.Join(dir, "later"), "x") }, true},
		{"new file in a directory", nil, func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sub", "new.txt"), "x") }, true},
		{"new file keep refuses", onlyYAML, func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sub", "new.txt"), "x") }, false},
		{"new file keep accepts", onlyYAML, func(t *testing.T, dir string) { write(t, filepath.Join(dir, "sub", "new.yaml"), "x") }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, "a.yaml"), "a")
			write(t, filepath.Join(dir, "b1"), "b")
			write(t, filepath.Join(dir, "sub", "s.yaml"), "s")
			if err := os.Symlink("b1", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			paths := []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "link"), filepath.Join(dir, "later"), filepath.Join(dir, "sub")}
			before := Files(paths, tt.keep)
			tt.change(t, dir)
			reversed := []string{paths[3], paths[2], paths[1], paths[0]}
			if after := Files(reversed, tt.keep); (after != before) != tt.changed {
				t.Errorf("changed = %v, want %v", after != before, tt.changed)
			}
		})
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func touch(t *testing.T, path string, mtime time.Time) {
	t.Helper()
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}
