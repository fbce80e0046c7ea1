package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/internal/chartergen"
)

// grammarPair is a generated charter, compiled and bundled through the real
// parser, validator and compiler, loaded natively and with OPA alone.
type grammarPair struct {
	src         string
	kinds       []string // every kind an article matches
	native, opa *Engine
}

// grammarCharter builds the charter of seed. A generated charter that does
// not validate or compile is a failure: the generator only writes charters
// the language accepts.
func grammarCharter(t testing.TB, seed uint64) (grammarPair, bool) {
	t.Helper()
	src := chartergen.Charter(rand.New(rand.NewPCG(seed, 0x636861)))
	path := filepath.Join(t.TempDir(), fmt.Sprintf("generated-%d.yaml", seed))
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _, err := bundles.FromCharters([]string{path})
	if err != nil {
		t.Errorf("charter seed %d does not build: %v\n%s", seed, err, src)
		return grammarPair{}, false
	}
	p := grammarPair{src: src}
	for _, id := range slices.Sorted(maps.Keys(b.Info.Articles)) {
		p.kinds = append(p.kinds, b.Info.Articles[id].Kinds...)
	}
	// The objects cluster queries look among.
	cluster := WithClusterData(ClusterDocument(chartergen.Cluster(rand.New(rand.NewPCG(seed, 0x636c75)))))
	if p.native, err = New(context.Background(), b, cluster); err != nil {
		t.Fatalf("charter seed %d: %v", seed, err)
	}
	if p.opa, err = New(context.Background(), b, OPAOnly(), cluster); err != nil {
		t.Fatalf("charter seed %d: %v", seed, err)
	}
	return p, true
}

// compare decides in on both paths and reports any difference: verdict,
// findings, their ids, messages, paths and order, or an error on one side.
// It returns the number of findings and whether the paths agreed.
func (p grammarPair) compare(t testing.TB, what string, in map[string]any) (int, bool) {
	t.Helper()
	want, werr := p.opa.Decide(context.Background(), in)
	got, gerr := p.native.Decide(context.Background(), in)
	if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
		js, _ := json.Marshal(in)
		t.Errorf("%s: native and OPA disagree\ncharter:\n%s\ninput: %s\nnative: %+v (error %v)\nopa:    %+v (error %v)", what, p.src, js, got, gerr, want, werr)
		return 0, false
	}
	return len(want.All()), true
}

// The CI budget of the grammar differential; raise locally to hunt
// (GRAMMAR_CHARTERS=2000 GRAMMAR_INPUTS=200 GRAMMAR_SEED=n).
var (
	grammarCharters = envInt("GRAMMAR_CHARTERS", 16)
	grammarInputs   = envInt("GRAMMAR_INPUTS", 100)
	grammarSeed     = uint64(envInt("GRAMMAR_SEED", 1))
)

// TestGrammarNativeMatchesOPA: on random charters from the language's
// grammar (every operator, any/all/not, every root, index steps, wildcards,
// map walks, label selectors, every foreach form, message templates,
// actions, scopes, overrides) and random objects and AdmissionReviews that
// reach their paths, the native evaluator decides exactly as OPA does.
func TestGrammarNativeMatchesOPA(t *testing.T) {
	inputs, findings, mismatched := 0, 0, 0
	for i := range uint64(grammarCharters) {
		seed := grammarSeed<<32 | i
		p, ok := grammarCharter(t, seed)
		if !ok {
			mismatched++
			continue
		}
		r := rand.New(rand.NewPCG(seed, 0x6f626a))
		for j := range grammarInputs {
			n, ok := p.compare(t, fmt.Sprintf("charter seed %d, input %d", seed, j), chartergen.Input(r, p.kinds...))
			findings += n
			inputs++
			if !ok {
				mismatched++
				break // one report per charter is enough; go on with the next
			}
		}
		if mismatched >= 10 {
			t.Fatalf("stopping after %d charters with a mismatch", mismatched)
		}
	}
	if t.Failed() {
		return
	}
	summary := fmt.Sprintf("grammar differential: compared %d charters x %d inputs (%d decisions, %d findings): native == OPA", grammarCharters, grammarInputs, inputs, findings)
	t.Log(summary)
	// go test shows nothing of a passing package without -v: make test sets
	// GRAMMAR_SUMMARY to a file it prints after the run (mk/differential.mk).
	if out := os.Getenv("GRAMMAR_SUMMARY"); out != "" {
		if err := os.WriteFile(out, []byte(summary+"\n"), 0o644); err != nil {
			t.Errorf("write summary: %v", err)
		}
	}
}

// grammarCache keeps the engines of recently fuzzed charter seeds: building
// one costs far more than deciding many inputs with it.
var grammarCache = struct {
	sync.Mutex
	pairs map[uint64]grammarPair
}{pairs: map[uint64]grammarPair{}}

// FuzzGrammarNativeMatchesOPA: the fuzzer drives the generators. The charter
// seed picks a random charter from the grammar, the input seed 16 random
// inputs for it; native and OPA must decide each the same.
func FuzzGrammarNativeMatchesOPA(f *testing.F) {
	for i := range uint64(4) { // each seed builds a charter: keep go test ./... short
		f.Add(i, i*7919)
	}
	f.Fuzz(func(t *testing.T, charterSeed, inputSeed uint64) {
		grammarCache.Lock()
		p, ok := grammarCache.pairs[charterSeed]
		grammarCache.Unlock()
		if !ok {
			if p, ok = grammarCharter(t, charterSeed); !ok {
				return
			}
			grammarCache.Lock()
			if len(grammarCache.pairs) >= 256 {
				clear(grammarCache.pairs)
			}
			grammarCache.pairs[charterSeed] = p
			grammarCache.Unlock()
		}
		r := rand.New(rand.NewPCG(inputSeed, charterSeed))
		for j := range 16 {
			if _, ok := p.compare(t, fmt.Sprintf("charter seed %d, input seed %d, input %d", charterSeed, inputSeed, j), chartergen.Input(r, p.kinds...)); !ok {
				return
			}
		}
	})
}
