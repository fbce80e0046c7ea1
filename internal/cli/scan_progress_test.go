package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// scanFiles writes n one-Pod files, every other one privileged.
func scanFiles(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		pod := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: p%d, namespace: default}\nspec:\n  containers:\n  - {name: app, image: nginx, securityContext: {privileged: %v}}\n", i, i%2 == 0)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%03d.yaml", i)), []byte(pod), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestScanProgressPlain: with stderr not a terminal (CI), audit scan
// writes plain count lines, one per tenth of the files and the total, with
// no escape sequence or carriage return; eval writes no progress at all.
func TestScanProgressPlain(t *testing.T) {
	dir := scanFiles(t, 20)
	code, out, stderr := run(t, "", "audit", "scan", "--charter", charterFile, "-o", "json", dir)
	if code != ExitViolation || !strings.Contains(out, `"results"`) {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 10 || lines[0] != "scanned 2/20 files: 2 objects, 1 denied" || lines[9] != "scanned 20/20 files: 20 objects, 10 denied" {
		t.Errorf("progress lines:\n%s", stderr)
	}
	if strings.ContainsAny(stderr, "\r\x1b") {
		t.Errorf("terminal control in a non-terminal stderr: %q", stderr)
	}
	if _, _, stderr := run(t, "", "eval", "--charter", charterFile, dir); stderr != "" {
		t.Errorf("eval wrote progress: %q", stderr)
	}
}

// TestScanProgressTerminal runs audit scan with stderr on a real
// pseudo-terminal (100 columns): it draws a bar rewritten in place that
// reaches 100% and never wraps, then leaves the plain total line; the
// report on stdout has no progress in it.
func TestScanProgressTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	screen := make(chan string)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO once the tty side is closed
		screen <- string(b)
	}()
	dir := scanFiles(t, 30)
	var out bytes.Buffer
	code := Run(context.Background(), []string{"audit", "scan", "--charter", charterFile, "-o", "json", dir}, Streams{In: strings.NewReader(""), Out: &out, Err: tty})
	tty.Close()
	var got string
	select {
	case got = <-screen:
	case <-time.After(10 * time.Second):
		t.Fatal("the pseudo-terminal did not close")
	}
	if code != ExitViolation {
		t.Fatalf("exit %d\n%q", code, got)
	}
	bar := regexp.MustCompile(`\r\x1b\[K\[(=*)(>? *)\] +(\d+)% (\d+)/30 files, (\d+) objects, (\d+) denied, [0-9-]+ objects/s`)
	frames := bar.FindAllStringSubmatch(got, -1)
	if len(frames) == 0 {
		t.Fatalf("no progress bar drawn:\n%q", got)
	}
	last := frames[len(frames)-1]
	if last[3] != "100" || last[4] != "30" || last[5] != "30" || last[6] != "15" || len(last[1]) != 24 {
		t.Errorf("last frame %q, want a full bar at 30/30 files, 30 objects, 15 denied", last[0])
	}
	// The bar is cleared, and the total stays as a plain line (the
	// terminal turns \n into \r\n).
	if !strings.HasSuffix(got, "\r\x1b[Kscanned 30/30 files: 30 objects, 15 denied\r\n") {
		t.Errorf("no plain total after the bar:\n%q", got)
	}
	for _, frame := range strings.Split(got, "\r") {
		if len(strings.TrimPrefix(frame, "\x1b[K")) > 99 {
			t.Errorf("a frame wider than the 100-column terminal: %q", frame)
		}
	}
	if strings.Contains(out.String(), "files") || !strings.Contains(out.String(), `"results"`) {
		t.Errorf("stdout holds progress or no report:\n%s", out.String())
	}
}

// TestProgressRedraws: the bar is redrawn at most every redrawEvery however
// fast files are done, and always at the last file; a live cluster scan
// shows a bar from the apiserver's remaining count, and a bare count when
// it is unknown.
func TestProgressRedraws(t *testing.T) {
	var b bytes.Buffer
	clock := time.Unix(0, 0)
	p := &progress{w: &b, live: true, width: 200, now: func() time.Time { return clock }}
	p.startFiles(1000)
	for i := range 1000 {
		p.object(i%4 == 0)
		p.fileDone()
		clock = clock.Add(time.Millisecond) // 1000 files a second
	}
	if frames := strings.Count(b.String(), "\r\x1b[K["); frames != 11 { // at 0, 100, ..., 900 ms, and the last
		t.Errorf("%d frames for 1 s of files, want 11:\n%q", frames, b.String())
	}
	if !strings.Contains(b.String(), "[========================] 100% 1000/1000 files, 1000 objects, 250 denied, 1001 objects/s") {
		t.Errorf("no final frame:\n%q", b.String())
	}

	// A narrow terminal cuts the line rather than wrap it.
	b.Reset()
	p = &progress{w: &b, live: true, width: 40, now: time.Now}
	p.startFiles(3)
	p.fileDone()
	if b.String() != "\r\x1b[K[========>               ]  33% 1/3 fil" {
		t.Errorf("narrow frame %q", b.String())
	}

	b.Reset()
	p = &progress{w: &b, live: true, width: 200, now: time.Now}
	remaining := int64(30)
	p.update("v1/pods", 10, 2, &remaining)
	if !strings.Contains(b.String(), "[======>                 ]  25% v1/pods: 10/40 objects, 2 denied") {
		t.Errorf("cluster frame %q", b.String())
	}
	b.Reset()
	p.clear()
	p.update("v1/pods", 10, 2, nil)
	if b.String() != "\r\x1b[K\r\x1b[Kv1/pods: 10 objects, 2 denied" {
		t.Errorf("frame without a total %q", b.String())
	}
	p.done("v1/pods", 40, 5)
	if !strings.HasSuffix(b.String(), "\r\x1b[Kscanned v1/pods: 40 objects, 5 denied\n") {
		t.Errorf("done %q", b.String())
	}
}
