package chartergen

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/compiler"
)

// TestChartersValidateAndCompile: every generated charter passes the real
// parser, validation and the compiler (a failure is a generator bug, or a
// language bug the generator found).
func TestChartersValidateAndCompile(t *testing.T) {
	dir := t.TempDir()
	ops := map[string]bool{}
	for seed := range uint64(60) {
		src := Charter(rand.New(rand.NewPCG(seed, 1)))
		for _, op := range ops0 {
			if strings.Contains(src, "op: "+op+",") || strings.Contains(src, "op: "+op+"}") {
				ops[op] = true
			}
		}
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := compiler.CompilePaths([]string{path}); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, src)
		}
	}
	for _, op := range ops0 {
		if !ops[op] {
			t.Errorf("no generated charter uses operator %s", op)
		}
	}
}

var ops0 = ops

// TestDeterministic: a seed gives the same charter and input every time, so
// a failing seed reproduces.
func TestDeterministic(t *testing.T) {
	for seed := range uint64(20) {
		a, b := Charter(rand.New(rand.NewPCG(seed, 2))), Charter(rand.New(rand.NewPCG(seed, 2)))
		if a != b {
			t.Fatalf("seed %d: two charters", seed)
		}
		x, y := Input(rand.New(rand.NewPCG(seed, 3))), Input(rand.New(rand.NewPCG(seed, 3)))
		if !equalJSON(t, x, y) {
			t.Fatalf("seed %d: two inputs", seed)
		}
	}
}
