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
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
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
	name       string
	wall, cpu  time.Duration
	objects    int
	denied     int
	target     string
	targetMet  bool
	haveTarget bool
}

func run(charterPath string, n, articles, runs int, charterBin, conftestBin string, seed uint64, keep string) error {
	runs = max(runs, 1)
	for _, p := range []string{charterPath, charterBin, conftestBin} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (run `make build tools` first)", err)
		}
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
	inproc.target, inproc.haveTarget, inproc.targetMet = "< 2 s", articles == 1000, inproc.wall < 2*time.Second
	rows = append(rows, inproc)
	build, _, err := timed(exec.Command(charterBin, "build", "-o", filepath.Join(dir, "generated.tar.gz"), big))
	if err != nil {
		return err
	}
	build.name = fmt.Sprintf("charter build %d articles (CLI)", articles)
	build.target, build.haveTarget, build.targetMet = "< 2 s", articles == 1000, build.wall < 2*time.Second
	rows = append(rows, build)

	// 2. charter eval vs conftest test on the same generated manifests.
	tgz, bdir := filepath.Join(dir, "bundle.tar.gz"), filepath.Join(dir, "bundle")
	for _, args := range [][]string{{"build", "-o", tgz, charterPath}, {"build", "--format", "dir", "-o", bdir, charterPath}} {
		if out, err := exec.Command(charterBin, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("charter %s: %v\n%s", strings.Join(args, " "), err, out)
		}
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
	keepBest := func(best *measurement, m measurement) {
		if best.objects == 0 || m.wall < best.wall {
			*best = m
		}
	}
	for range runs {
		a, err := charterEval(charterBin, "--charter", charterPath, corpus)
		if err != nil {
			return err
		}
		b, err := charterEval(charterBin, "--bundle", tgz, corpus)
		if err != nil {
			return err
		}
		c, err := conftestTest(conftestBin, bdir, corpus)
		if err != nil {
			return err
		}
		if a.denied != b.denied || a.denied != c.denied || a.objects != n || b.objects != n || c.objects != n {
			return fmt.Errorf("verdicts differ: charter --charter denies %d of %d, --bundle %d of %d, conftest fails %d of %d objects",
				a.denied, a.objects, b.denied, b.objects, c.denied, c.objects)
		}
		keepBest(&evalCharter, a)
		keepBest(&evalBundle, b)
		keepBest(&conf, c)
	}
	evalCharter.name = "charter eval --charter"
	evalBundle.name = "charter eval --bundle"
	conf.name = "conftest test --namespace charter"
	ratio := float64(conf.wall) / float64(evalCharter.wall)
	evalCharter.target, evalCharter.haveTarget, evalCharter.targetMet = ">= 5x conftest", true, ratio >= 5
	rows = append(rows, evalCharter, evalBundle, conf)

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measurement\twall\tcpu (user+sys)\tobjects\tdenied\tobjects/s\ttarget\t")
	for _, r := range rows {
		objs, den, rate, target := "", "", "", ""
		if r.objects > 0 {
			objs, den = fmt.Sprint(r.objects), fmt.Sprint(r.denied)
			rate = fmt.Sprintf("%.0f", float64(r.objects)/r.wall.Seconds())
		}
		if r.haveTarget {
			target = r.target + map[bool]string{true: " met", false: " NOT MET"}[r.targetMet]
		}
		fmt.Fprintf(w, "%s\t%.2f s\t%.2f s\t%s\t%s\t%s\t%s\t\n", r.name, r.wall.Seconds(), r.cpu.Seconds(), objs, den, rate, target)
	}
	w.Flush()
	fmt.Printf("\ncharter eval vs conftest: %.2f s vs %.2f s wall = %.1fx faster (bundle: %.1fx); cpu %.2f s vs %.2f s = %.1fx\n",
		evalCharter.wall.Seconds(), conf.wall.Seconds(), ratio, float64(conf.wall)/float64(evalBundle.wall),
		evalCharter.cpu.Seconds(), conf.cpu.Seconds(), float64(conf.cpu)/float64(evalCharter.cpu))
	fmt.Printf("verdicts agree: %d of %d objects denied by all three, in every run\n", evalCharter.denied, n)
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
		if i == 0 || wall < m.wall {
			m.wall, m.cpu = wall, cpu
		}
	}
	return m, nil
}

// timed runs cmd and measures wall and CPU time. Exit code 1 (policy
// violations) is a normal outcome; anything else is an error.
func timed(cmd *exec.Cmd) (measurement, []byte, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil && (cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1) {
		return measurement{}, nil, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, clip(stderr.Bytes()))
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return measurement{wall: wall, cpu: cpu}, stdout.Bytes(), nil
}

func charterEval(bin, flag, policy, corpus string) (measurement, error) {
	m, out, err := timed(exec.Command(bin, "eval", flag, policy, "--output", "json", corpus))
	if err != nil {
		return m, err
	}
	var res struct {
		Results []struct {
			Allowed bool `json:"allowed"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return m, fmt.Errorf("charter eval output: %w", err)
	}
	m.objects = len(res.Results)
	for _, r := range res.Results {
		if !r.Allowed {
			m.denied++
		}
	}
	return m, nil
}

func conftestTest(bin, bundleDir, corpus string) (measurement, error) {
	m, out, err := timed(exec.Command(bin, "test", "--policy", bundleDir, "--namespace", "charter", "--output", "json", "--no-color", corpus))
	if err != nil {
		return m, err
	}
	var res []struct {
		Failures []json.RawMessage `json:"failures"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return m, fmt.Errorf("conftest output: %w", err)
	}
	m.objects = len(res)
	for _, r := range res {
		if len(r.Failures) > 0 {
			m.denied++
		}
	}
	return m, nil
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "\n[...]"
	}
	return string(b)
}
