package policies

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
)

// pssDefaulted are upstream fixtures whose expectation holds only after the
// API server's defaulting, which runs before admission; on the raw object the
// library (and so the charter) decides the other way.
var pssDefaulted = map[string]string{
	"restricted/pass/restrictedvolumes0.yaml": "volume0 names no source; the API server defaults it to emptyDir",
}

// pssCase is one pod, evaluated bare and inside some workload kinds, at both levels.
type pssCase struct {
	name  string
	pod   map[string]any
	kinds []string
	// wantFail is the fixture's own expectation at its level ("" for generated pods).
	wantLevel api.Level
	wantFail  *bool
}

// pssStats counts what a differential run covered.
type pssStats struct {
	mu                         sync.Mutex
	decisions, allowed, denied int
	mismatches                 []string
}

// pssRun compares the charters with upstream on every case, in parallel over
// one shared engine per charter. It returns the stats; mismatches fail t.
func pssRun(t *testing.T, cases []pssCase) *pssStats {
	t.Helper()
	charters := pssEngines(t)
	oracle := newPSSOracle(t)
	stats := &pssStats{}
	work := make(chan pssCase)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				pssCompare(c, charters, oracle, stats)
			}
		}()
	}
	for _, c := range cases {
		work <- c
	}
	close(work)
	wg.Wait()
	for i, m := range stats.mismatches {
		if i == 20 {
			t.Errorf("... and %d more mismatches", len(stats.mismatches)-20)
			break
		}
		t.Error(m)
	}
	return stats
}

func pssCompare(c pssCase, charters map[api.Level]*pssCharter, oracle *pssOracle, stats *pssStats) {
	fail := func(format string, args ...any) {
		stats.mu.Lock()
		defer stats.mu.Unlock()
		stats.mismatches = append(stats.mismatches, fmt.Sprintf(format, args...))
	}
	typed, err := pssTyped(c.pod)
	if err != nil {
		fail("%s: %v", c.name, err)
		return
	}
	for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
		want := oracle.expect(level, typed)
		if c.wantFail != nil && level == c.wantLevel {
			why, defaulted := pssDefaulted[c.name]
			switch {
			case !defaulted && want.Allowed == *c.wantFail:
				fail("%s: upstream itself disagrees with the fixture (allowed=%v)", c.name, want.Allowed)
			case defaulted && want.Allowed != *c.wantFail:
				fail("%s: listed in pssDefaulted (%s) but upstream now agrees with the fixture", c.name, why)
			}
		}
		for _, kind := range c.kinds {
			got, err := pssDecide(charters[level].engine, pssWrap(c.pod, kind))
			stats.mu.Lock()
			stats.decisions++
			if got.Allowed {
				stats.allowed++
			} else {
				stats.denied++
			}
			stats.mu.Unlock()
			if err != nil {
				fail("%s as %s at %s: %v", c.name, kind, level, err)
				continue
			}
			if !oracle.same(level, got, want) {
				fail("%s as %s at level %s:\n  charter allowed=%v articles=%v\n  upstream allowed=%v articles=%v\nupstream reasons:\n%s\ncharter findings:\n%s\npod:\n%s",
					c.name, kind, level, got.Allowed, got.Articles, want.Allowed, want.Articles,
					indent(want.Detail), indent(got.Detail), indent(pssYAML(c.pod)))
			}
			if kind != "Pod" && !got.Allowed && !strings.Contains(got.Detail, " at spec.") && !strings.Contains(got.Detail, " at template.") {
				fail("%s as %s at %s: findings do not point into the pod template:\n%s", c.name, kind, level, got.Detail)
			}
		}
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// TestPSSDifferentialFixtures runs every upstream fixture of the latest policy
// version, bare and inside every workload kind, through both charters and the
// upstream library at both levels.
func TestPSSDifferentialFixtures(t *testing.T) {
	dir := pssUpstreamDir(t)
	var cases []pssCase
	for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
		version, pass, fail := pssLatestFixtures(t, dir, level)
		if len(pass) == 0 || len(fail) == 0 {
			t.Fatalf("%s %s: %d pass and %d fail fixtures", level, version, len(pass), len(fail))
		}
		t.Logf("%s: fixtures of %s: %d pass, %d fail", level, version, len(pass), len(fail))
		for i, f := range append(pass, fail...) {
			pod, err := pssReadObject(f)
			if err != nil {
				t.Fatal(err)
			}
			shouldFail := i >= len(pass)
			cases = append(cases, pssCase{
				name: fmt.Sprintf("%s/%s/%s", level, filepath.Base(filepath.Dir(f)), filepath.Base(f)),
				pod:  pod, kinds: pssKinds, wantLevel: level, wantFail: &shouldFail,
			})
		}
	}
	stats := pssRun(t, cases)
	t.Logf("%d fixtures x %d kinds x 2 levels: %d decisions (%d allowed, %d denied), %d mismatches",
		len(cases), len(pssKinds), stats.decisions, stats.allowed, stats.denied, len(stats.mismatches))
	if stats.allowed == 0 || stats.denied == 0 {
		t.Errorf("a differential run that never allows or never denies proves little: %d allowed, %d denied", stats.allowed, stats.denied)
	}
}

// pssGenerated is how many generated pods the differential test runs; each is
// evaluated bare and inside one workload kind (rotating), and every 10th in all kinds.
const pssGenerated = 3000

func pssGeneratedCases(n int) []pssCase {
	g := newPSSGen(20260101)
	cases := make([]pssCase, n)
	for i := range cases {
		kinds := []string{"Pod", pssKinds[1+i%(len(pssKinds)-1)]}
		if i%10 == 0 {
			kinds = pssKinds
		}
		cases[i] = pssCase{name: fmt.Sprintf("generated pod %d", i), pod: g.pod(i), kinds: kinds}
	}
	return cases
}

// TestPSSDifferentialGenerated runs thousands of generated pods through both
// charters and the upstream library, and checks the generator reached every
// check both ways.
func TestPSSDifferentialGenerated(t *testing.T) {
	cases := pssGeneratedCases(pssGenerated)
	stats := pssRun(t, cases)
	t.Logf("%d generated pods: %d decisions (%d allowed, %d denied), %d mismatches",
		len(cases), stats.decisions, stats.allowed, stats.denied, len(stats.mismatches))

	// Coverage: every check must fail on some pods and pass on others, and
	// each level must both allow and deny.
	oracle := newPSSOracle(t)
	fails := map[string]int{}
	allowed := map[api.Level]int{}
	for _, c := range cases {
		typed, err := pssTyped(c.pod)
		if err != nil {
			t.Fatal(err)
		}
		for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
			failed := oracle.evaluate(level, typed)
			if len(failed) == 0 {
				allowed[level]++
			}
			for id := range failed {
				fails[string(id)]++
			}
		}
	}
	for id := range pssArticles {
		if fails[string(id)] == 0 || fails[string(id)] == len(cases) {
			t.Errorf("check %s failed on %d of %d generated pods: the generator does not exercise it", id, fails[string(id)], len(cases))
		}
	}
	for _, level := range []api.Level{api.LevelBaseline, api.LevelRestricted} {
		if allowed[level] < len(cases)/20 || allowed[level] > len(cases)*19/20 {
			t.Errorf("%s allowed %d of %d generated pods: too lopsided", level, allowed[level], len(cases))
		}
	}
	t.Logf("upstream failures per check: %v; allowed: baseline %d, restricted %d", fails, allowed[api.LevelBaseline], allowed[api.LevelRestricted])
}

// BenchmarkPSS compares the restricted charter with upstream EvaluatePod on
// the same generated pods (bare Pods).
func BenchmarkPSS(b *testing.B) {
	cases := pssGeneratedCases(1000)
	charters := pssEngines(b)
	typed := make([]*corev1.Pod, len(cases))
	for i, c := range cases {
		var err error
		if typed[i], err = pssTyped(c.pod); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("charter/restricted", func(b *testing.B) {
		e := charters[api.LevelRestricted].engine
		i := 0
		for b.Loop() {
			if _, err := pssDecide(e, cases[i%len(cases)].pod); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("charter/baseline", func(b *testing.B) {
		e := charters[api.LevelBaseline].engine
		i := 0
		for b.Loop() {
			if _, err := pssDecide(e, cases[i%len(cases)].pod); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	oracle := newPSSOracle(b)
	for _, level := range []api.Level{api.LevelRestricted, api.LevelBaseline} {
		b.Run("upstream/"+string(level), func(b *testing.B) {
			lv := api.LevelVersion{Level: level, Version: api.LatestVersion()}
			i := 0
			for b.Loop() {
				p := typed[i%len(typed)]
				oracle.evaluator.EvaluatePod(lv, &p.ObjectMeta, &p.Spec)
				i++
			}
		})
	}
}
