package version

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeBuildStamps builds a program printing version.Get() with the flags
// `make build` uses and checks that it reports the VERSION file and the
// commit: a renamed variable would otherwise leave every release saying
// "devel".
func TestMakeBuildStamps(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ldflags := output(t, root, "make", "-s", "print-ldflags")
	bin := filepath.Join(t.TempDir(), "printversion")
	output(t, root, "go", "build", "-ldflags", ldflags, "-o", bin, "./version/testdata/printversion")
	var got Info
	if err := json.Unmarshal([]byte(output(t, root, bin)), &got); err != nil {
		t.Fatal(err)
	}
	release, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(release)); got.Version != want {
		t.Errorf("version %q, want the VERSION file's %q", got.Version, want)
	}
	if want := output(t, root, "git", "rev-parse", "HEAD"); got.Commit != want {
		t.Errorf("commit %q, want HEAD %q", got.Commit, want)
	}
}

func output(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}
