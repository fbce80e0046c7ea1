package bench

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	"gopkg.in/yaml.v3"
)

// compileAndBundle is what `charter build` does: load, compile, lay out, pack.
func compileAndBundle(tb testing.TB, path string) []byte {
	_, out, err := compiler.CompilePaths([]string{path})
	if err != nil {
		tb.Fatal(err)
	}
	files, err := bundles.FromOutput(out)
	if err != nil {
		tb.Fatal(err)
	}
	tgz, err := files.TarGz()
	if err != nil {
		tb.Fatal(err)
	}
	return tgz
}

func writeCharter(tb testing.TB, n int) string {
	p := filepath.Join(tb.TempDir(), "bench.yaml")
	if err := os.WriteFile(p, Charter(n), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestGeneratedCharter: the generated charter is valid and every article
// becomes a module, so the benchmark measures real work.
func TestGeneratedCharter(t *testing.T) {
	p := writeCharter(t, 2*len(articleShapes))
	_, out, err := compiler.CompilePaths([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(out.Info.Articles), 2*len(articleShapes); got != want {
		t.Errorf("%d articles, want %d", got, want)
	}
	packages := map[string]bool{}
	for _, src := range out.Modules {
		for line := range strings.Lines(src) {
			if pkg, ok := strings.CutPrefix(strings.TrimSpace(line), "package "); ok {
				packages[pkg] = true
				break
			}
		}
	}
	for id, a := range out.Info.Articles {
		if a.Package == "" || !packages[a.Package] {
			t.Errorf("article %s: no module for its package %q", id, a.Package)
		}
	}
}

// TestManifests: the corpus is deterministic and mixes compliant and violating objects.
func TestManifests(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	va, err := Manifests(a, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	vb, err := Manifests(b, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	if va != vb || va == 0 || va == 200 {
		t.Errorf("violating = %d and %d of 200, want equal and mixed", va, vb)
	}
	x, _ := os.ReadFile(filepath.Join(a, "000", "app-00042.yaml"))
	y, _ := os.ReadFile(filepath.Join(b, "000", "app-00042.yaml"))
	if len(x) == 0 || string(x) != string(y) {
		t.Errorf("corpus is not deterministic:\n%s\n---\n%s", x, y)
	}
}

// BenchmarkCompileBundle1000 compiles and bundles a generated 1,000-article
// charter (target: under 2 s per op).
func BenchmarkCompileBundle1000(b *testing.B) {
	p := writeCharter(b, 1000)
	var size int
	cpu0 := CPUTime()
	for b.Loop() {
		size = len(compileAndBundle(b, p))
	}
	b.ReportMetric((CPUTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(size), "bundle-bytes")
}

// BenchmarkCompileBundle100 is the same at a tenth of the size, to show how it scales.
func BenchmarkCompileBundle100(b *testing.B) {
	p := writeCharter(b, 100)
	for b.Loop() {
		compileAndBundle(b, p)
	}
}

// BenchmarkDecideRestricted is the per-object cost of charter eval without
// I/O: the restricted charter's decision on generated Pods and Deployments.
func BenchmarkDecideRestricted(b *testing.B) {
	path := filepath.Join("..", "..", "policies", "pod-security-restricted.yaml")
	if _, err := os.Stat(path); err != nil {
		b.Fatal(err)
	}
	bundle, err := bundles.Compile(compileOutput(b, path))
	if err != nil {
		b.Fatal(err)
	}
	e, err := engine.New(context.Background(), bundle)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if _, err := Manifests(dir, 200, 2); err != nil {
		b.Fatal(err)
	}
	var objs []any
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var v map[string]any
		if err := yaml.Unmarshal(data, &v); err != nil {
			return err
		}
		objs = append(objs, v)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := e.Decide(ctx, objs[i%len(objs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func compileOutput(tb testing.TB, path string) *compiler.Output {
	c, err := charter.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := compiler.Compile(c)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
