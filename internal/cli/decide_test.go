package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/charter-dev/charter/internal/manifest"
)

// docFiles writes n files of 1 to 3 ConfigMaps each and returns their sources.
func docFiles(t *testing.T, n int) []manifest.Source {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		var docs []string
		for j := range 1 + i%3 {
			docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d-%d}\n", i, j))
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d.yaml", i)), []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sources, errs := manifest.Sources([]string{dir}, nil)
	if len(errs) > 0 || len(sources) != n {
		t.Fatalf("%d sources, %v", len(sources), errs)
	}
	return sources
}

// TestForEachDocOrderAndBound: outcomes reach emit in the order of files
// and documents although every core decides; no more than the read-ahead
// window of files is decided ahead of emit; done follows each file.
func TestForEachDocOrderAndBound(t *testing.T) {
	sources := docFiles(t, 300)
	var mu sync.Mutex
	decided, emitted, ahead := 0, 0, 0
	var order []string
	files := 0
	bad, err := forEachDoc(context.Background(), sources,
		func(_ context.Context, d manifest.Doc) (string, error) {
			mu.Lock()
			decided++
			ahead = max(ahead, decided-emitted)
			mu.Unlock()
			return d.Name(), nil
		},
		func(name string) error {
			mu.Lock()
			emitted++
			mu.Unlock()
			order = append(order, name)
			return nil
		},
		func() { files++ })
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	var want []string
	for i := range 300 {
		for j := range 1 + i%3 {
			want = append(want, fmt.Sprintf("c%d-%d", i, j))
		}
	}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("emitted out of order:\n%v", order)
	}
	if files != 300 {
		t.Errorf("done called %d times, want 300", files)
	}
	// Files in the window, plus one per core being decided and the one
	// being emitted, of at most 3 documents each.
	if limit := 3 * (readAhead*runtime.GOMAXPROCS(0) + runtime.GOMAXPROCS(0) + 1); ahead > limit {
		t.Errorf("%d documents decided ahead of emit, want at most %d", ahead, limit)
	}
}

// TestForEachDocErrors: a decide error names its document and the others
// are still emitted; an unreadable file is a positioned read error; an
// emit error stops the reading early.
func TestForEachDocErrors(t *testing.T) {
	sources := docFiles(t, 40)
	sources = append(sources, manifest.Source{Name: filepath.Join(t.TempDir(), "gone.yaml")})
	n := 0
	bad, err := forEachDoc(context.Background(), sources,
		func(_ context.Context, d manifest.Doc) (string, error) {
			if d.Name() == "c7-1" {
				return "", errors.New("engine broke")
			}
			return d.Name(), nil
		},
		func(string) error { n++; return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "f0007.yaml#1: engine broke") {
		t.Errorf("err = %v", err)
	}
	if len(bad) != 1 || !strings.Contains(bad.Error(), "gone.yaml") {
		t.Errorf("read errors = %v", bad)
	}
	want := -1 // the failed one
	for i := range 40 {
		want += 1 + i%3
	}
	if n != want {
		t.Errorf("%d emitted, want %d", n, want)
	}

	reads := 0
	_, err = forEachDoc(context.Background(), docFiles(t, 500),
		func(_ context.Context, d manifest.Doc) (string, error) { return d.Name(), nil },
		func(string) error { reads++; return errors.New("stdout closed") }, nil)
	if err == nil || !strings.Contains(err.Error(), "stdout closed") || reads != 1 {
		t.Errorf("err = %v after %d emits", err, reads)
	}
}
