package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for i, tc := range []struct {
		data string
		perm os.FileMode
	}{{"first", 0o644}, {"second, longer", 0o600}, {"", 0o640}} {
		if err := Write(p, []byte(tc.data), tc.perm); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != tc.data {
			t.Fatalf("write %d: read %q, %v; want %q", i, got, err, tc.data)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != tc.perm {
			t.Errorf("write %d: mode %v, want %v", i, fi.Mode().Perm(), tc.perm)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only f (a temporary file left behind?)", len(entries))
	}
}

func TestWriteFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "missing", "f"), []byte("x"), 0o644); err == nil {
		t.Error("wrote into a directory that does not exist")
	}
	// Renaming a file over a non-empty directory fails after the temporary
	// file is written: it must be removed, and the directory kept.
	target := filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(target, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(target, []byte("x"), 0o644); err == nil {
		t.Error("replaced a non-empty directory")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "d" || !entries[0].IsDir() {
		t.Errorf("after the failed writes the directory holds %v, want only d/", entries)
	}
	if _, err := os.Stat(filepath.Join(target, "keep")); err != nil {
		t.Errorf("the directory lost its content: %v", err)
	}
}
