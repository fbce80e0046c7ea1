package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 7 item 3: build --format dir into a directory that holds a bundle and
// a git checkout replaces the bundle and keeps everything else.
func TestBuildDirKeepsGitAndUserFiles(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, "", "build", "--tests", "--format", "dir", "-o", dir, "../../policies/anti-delos.yaml"); code != 0 {
		t.Fatalf("first build: %s", stderr)
	}
	user := map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/objects/ab/cdef": "blob", "README.md": "mine\n"}
	for n, data := range user {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := run(t, "", "build", "--format", "dir", "-o", dir, charterFile); code != 0 {
		t.Fatalf("second build: %s", stderr)
	}
	for n, want := range user {
		if got, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v after the build, want %q", n, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "charter", "tests")); !os.IsNotExist(err) {
		t.Errorf("the earlier bundle's test modules survived: %v", err)
	}
	if code, out, stderr := run(t, privilegedPod, "eval", "--bundle", dir, "-"); code != 1 || !strings.Contains(out, "AD-001") {
		t.Errorf("eval of the rebuilt directory: %d\n%s%s", code, out, stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "charter", "mine.rego"), []byte("package charter.mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "", "build", "--format", "dir", "-o", dir, charterFile)
	if code != 2 || !strings.Contains(stderr, "refusing to overwrite") {
		t.Errorf("build over a hand-edited bundle: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "charter", "mine.rego")); err != nil {
		t.Errorf("the user's module is gone: %v", err)
	}
}
