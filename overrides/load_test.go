package overrides

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReadDirThroughSymlink: a directory given as a symbolic link (linked
// or mounted into place) is read, and its files are named under the path
// as given; before, WalkDir stopped at the link and read nothing.
func TestReadDirThroughSymlink(t *testing.T) {
	c := newCustodians(t)
	root := t.TempDir()
	real := filepath.Join(root, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := sign(t, request(), c.alice, c.bob).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "debug.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "overrides")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	entries, err := ReadDir(link)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Err != nil || entries[0].Source != filepath.Join(link, "debug.yaml") {
		t.Fatalf("ReadDir(%s) = %+v, want one document named %s", link, entries, filepath.Join(link, "debug.yaml"))
	}
}
