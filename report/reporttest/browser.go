package reporttest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Browser is Debian's chromium, run headless on local files.
type Browser struct {
	bin string
	t   testing.TB
}

// Chromium finds chromium on PATH. Without it the test skips, except in CI
// (CI=true), where a missing browser is a failure: .ci/run installs it.
func Chromium(t testing.TB) Browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is not installed (apt-get install -y chromium); CI must render the HTML report: %v", err)
		}
		t.Skipf("chromium is not installed (apt-get install -y chromium): %v", err)
	}
	return Browser{bin: bin, t: t}
}

func (b Browser) run(args ...string) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--disable-background-networking", "--user-data-dir=" + b.t.TempDir()}
	cmd := exec.CommandContext(ctx, b.bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func fileURL(path, fragment string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	u := "file://" + filepath.ToSlash(abs)
	if fragment != "" {
		u += "#" + fragment
	}
	return u
}

// DOM is the page's DOM after its scripts ran (chromium --dump-dom).
func (b Browser) DOM(page, fragment string) string {
	b.t.Helper()
	return string(b.run("--virtual-time-budget=5000", "--dump-dom", fileURL(page, fragment)))
}

// Screenshot renders the page at 1280x1100 into png.
func (b Browser) Screenshot(page, png string) {
	b.t.Helper()
	b.run("--virtual-time-budget=5000", "--hide-scrollbars", "--window-size=1280,1100", "--screenshot="+png, fileURL(page, ""))
	if st, err := os.Stat(png); err != nil || st.Size() == 0 {
		b.t.Fatalf("chromium wrote no screenshot at %s: %v", png, err)
	}
}

// ArtifactsDir is where tests keep what a person may want to look at
// (screenshots): $CHARTER_ARTIFACTS, else $TMPDIR/charter-artifacts. It
// outlives the test on purpose.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CHARTER_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "charter-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
