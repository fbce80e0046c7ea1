// Command evalbench measures charter side by side with conftest, in one run,
// and prints a table (make bench):
//
//   - compile and bundle a generated charter of -articles articles, in process
//     and with `charter build` (target: under 2 s for 1,000 articles);
//   - `charter eval` over -n generated Pods and Deployments against -charter,
//     and `conftest test --namespace charter` with the same charter compiled to
//     a bundle directory, on the same files (target: charter >= 5x faster).
//
// Both tools must reach the same verdicts, or evalbench exits 1: a fast wrong
// answer is no result. Wall time is the headline; CPU time (user+sys) is shown
// too, because these machines are shared and wall time depends on the load.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/test/bench"
)

func main() {
	var (
		charterPath = flag.String("charter", "policies/pod-security-restricted.yaml", "charter to evaluate the manifests against")
		n           = flag.Int("n", 10000, "number of generated manifests")
		articles    = flag.Int("articles", 1000, "articles in the generated charter for the compile benchmark")
		charterBin  = flag.String("charter-bin", "bin/charter", "charter binary")
		conftestBin = flag.String("conftest-bin", "bin/conftest", "conftest binary")
		seed        = flag.Uint64("seed", 1, "corpus seed")
		keep        = flag.String("keep", "", "write the corpus and bundles here and keep them (default: a removed temp dir)")
		runs        = flag.Int("runs", 2, "runs of each eval measurement, alternating the tools; the best wall time counts")
	)
	flag.Parse()
	if err := run(*charterPath, *n, *articles, *runs, *charterBin, *conftestBin, *seed, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "evalbench:", err)
		os.Exit(1)
	}
}

// measurement is one timed piece of work.
type measurement struct {
	bench.Run
	name       string
	target     string
	targetMet  bool
	haveTarget bool
}

func run(charterPath string, n, articles, runs int, charterBin, conftestBin string, seed uint64, keep string) error {
	runs = max(runs, 1)
	if err := bench.NeedFiles(charterPath, charterBin, conftestBin); err != nil {
		return err
	}
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "charter-evalbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fmt.Printf("evalbench: %d CPUs, GOMAXPROCS %d, load average %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), bench.LoadAverage())

	// 1. Compile and bundle a generated charter.
	big := filepath.Join(dir, fmt.Sprintf("generated-%d.yaml", articles))
	if err := os.WriteFile(big, bench.Charter(articles), 0o644); err != nil {
		return err
	}
	var rows []measurement
	inproc, err := best(3, func() (time.Duration, time.Duration, error) { return compileInProcess(big) })
	if err != nil {
		return fmt.Errorf("compile %s: %w", big, err)
	}
	inproc.name = fmt.Sprintf("compile+bundle %d articles (in process, best of 3)", articles)
	inproc.target, inproc.haveTarget, inproc.targetMet = "< 2 s", articles == 1000, inproc.Wall < 2*time.Second
	rows = append(rows, inproc)
	buildRun, _, err := bench.Timed(exec.Command(charterBin, "build", "-o", filepath.Join(dir, "generated.tar.gz"), big))
	if err != nil {
		return err
	}
	build := measurement{Run: buildRun}
	build.name = fmt.Sprintf("charter build %d articles (CLI)", articles)
	build.target, build.haveTarget, build.targetMet = "< 2 s", articles == 1000, build.Wall < 2*time.Second
	rows = append(rows, build)

	// 2. charter eval vs conftest test on the same generated manifests.
	tgz, bdir, err := bench.BuildBundles(charterBin, charterPath, dir)
	if err != nil {
		return err
	}
	corpus := filepath.Join(dir, "manifests")
	if err := os.RemoveAll(corpus); err != nil {
		return err
	}
	violating, err := bench.Manifests(corpus, n, seed)
	if err != nil {
		return err
	}
	fmt.Printf("corpus: %d manifests (Pods and Deployments, %d generated to violate the restricted profile) in %s\n", n, violating, corpus)
	fmt.Printf("charter: %s\n\n", charterPath)

	// Alternate the tools and keep each one's best run, so both see the same
	// machine load (these machines are shared).
	var evalCharter, evalBundle, conf measurement
	keepBest := func(best *measurement, r bench.Run) {
		if best.Objects == 0 || r.Wall < best.Wall {
			best.Run = r
		}
	}
	for range runs {
		a, err := bench.RunCharter(charterBin, "eval", "--charter", charterPath, "--output", "json", corpus)
		if err != nil {
			return err
		}
		b, err := bench.RunCharter(charterBin, "eval", "--bundle", tgz, "--output", "json", corpus)
		if err != nil {
			return err
		}
		c, err := bench.RunConftest(conftestBin, bdir, corpus)
		if err != nil {
			return err
		}
		if a.Denied != b.Denied || a.Denied != c.Denied || a.Objects != n || b.Objects != n || c.Objects != n {
			return fmt.Errorf("verdicts differ: charter --charter denies %d of %d, --bundle %d of %d, conftest fails %d of %d objects",
				a.Denied, a.Objects, b.Denied, b.Objects, c.Denied, c.Objects)
		}
		keepBest(&evalCharter, a)
		keepBest(&evalBundle, b)
		keepBest(&conf, c)
	}
	evalCharter.name = "charter eval --charter"
	evalBundle.name = "charter eval --bundle"
	conf.name = "conftest test --namespace charter"
	ratio := float64(conf.Wall) / float64(evalCharter.Wall)
	evalCharter.target, evalCharter.haveTarget, evalCharter.targetMet = ">= 5x conftest", true, ratio >= 5
	rows = append(rows, evalCharter, evalBundle, conf)

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measurement\twall\tcpu (user+sys)\tobjects\tdenied\tobjects/s\ttarget\t")
	for _, r := range rows {
		objs, den, rate, target := "", "", "", ""
		if r.Objects > 0 {
			objs, den = fmt.Sprint(r.Objects), fmt.Sprint(r.Denied)
			rate = fmt.Sprintf("%.0f", r.Rate())
		}
		if r.haveTarget {
			target = r.target + map[bool]string{true: " met", false: " NOT MET"}[r.targetMet]
		}
		fmt.Fprintf(w, "%s\t%.2f s\t%.2f s\t%s\t%s\t%s\t%s\t\n", r.name, r.Wall.Seconds(), r.CPU.Seconds(), objs, den, rate, target)
	}
	w.Flush()
	fmt.Printf("\ncharter eval vs conftest: %.2f s vs %.2f s wall = %.1fx faster (bundle: %.1fx); cpu %.2f s vs %.2f s = %.1fx\n",
		evalCharter.Wall.Seconds(), conf.Wall.Seconds(), ratio, float64(conf.Wall)/float64(evalBundle.Wall),
		evalCharter.CPU.Seconds(), conf.CPU.Seconds(), float64(conf.CPU)/float64(evalCharter.CPU))
	fmt.Printf("verdicts agree: %d of %d objects denied by all three, in every run\n", evalCharter.Denied, n)
	return nil
}

func compileInProcess(path string) (time.Duration, time.Duration, error) {
	cpu0 := bench.CPUTime()
	start := time.Now()
	c, err := charter.Load(path)
	if err != nil {
		return 0, 0, err
	}
	out, err := compiler.Compile(c)
	if err != nil {
		return 0, 0, err
	}
	files, err := bundles.FromOutput(out)
	if err != nil {
		return 0, 0, err
	}
	if _, err := files.TarGz(); err != nil {
		return 0, 0, err
	}
	return time.Since(start), bench.CPUTime() - cpu0, nil
}

func best(runs int, f func() (time.Duration, time.Duration, error)) (measurement, error) {
	var m measurement
	for i := range runs {
		wall, cpu, err := f()
		if err != nil {
			return m, err
		}
		if i == 0 || wall < m.Wall {
			m.Wall, m.CPU = wall, cpu
		}
	}
	return m, nil
}
