// Command scanbench measures `charter audit scan` over manifests beside
// `conftest test` with the same charter compiled to a bundle, on the same
// generated files, in one run (make bench-scan): objects/s and peak RSS at
// each corpus size (-sizes, default 10,000 and 100,000 objects). Targets:
// charter >= 10x conftest's throughput, and charter's peak RSS at the
// largest size within 2x of the smallest (flat memory). With -cluster N it
// also scans N Pods from the e2e kube-apiserver + etcd (paginated lists).
//
// Both tools must deny the same number of objects, or scanbench exits 1.
// Each measurement is the best of -runs runs, alternating the tools, since
// these machines are shared.
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
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/charter-dev/charter/test/bench"
)

func main() {
	var (
		charterPath = flag.String("charter", "policies/pod-security-restricted.yaml", "charter to scan the manifests against")
		sizes       = flag.String("sizes", "10000,100000", "corpus sizes, comma-separated")
		charterBin  = flag.String("charter-bin", "bin/charter", "charter binary")
		conftestBin = flag.String("conftest-bin", "bin/conftest", "conftest binary")
		runs        = flag.Int("runs", 1, "runs of each measurement; the best wall time counts")
		seed        = flag.Uint64("seed", 1, "corpus seed")
		clusterN    = flag.Int("cluster", 0, "also scan this many Pods from the e2e kube-apiserver + etcd (bin/, as root); 0: skip")
	)
	flag.Parse()
	if err := run(*charterPath, *sizes, *charterBin, *conftestBin, max(*runs, 1), *seed, *clusterN); err != nil {
		fmt.Fprintln(os.Stderr, "scanbench:", err)
		os.Exit(1)
	}
}

type measurement struct {
	name        string
	size        int
	wall, cpu   time.Duration
	peakRSS     int64 // bytes
	objects     int
	denied      int
	targetLabel string
}

func run(charterPath, sizeList, charterBin, conftestBin string, runs int, seed uint64, clusterN int) error {
	for _, p := range []string{charterPath, charterBin, conftestBin} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (run `make build tools` first)", err)
		}
	}
	var sizes []int
	for _, s := range strings.Split(sizeList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		sizes = append(sizes, n)
	}
	dir, err := os.MkdirTemp("", "charter-scanbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("scanbench: %d CPUs, GOMAXPROCS %d, load average %s, charter %s\n\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), bench.LoadAverage(), charterPath)
	tgz, bdir := filepath.Join(dir, "bundle.tar.gz"), filepath.Join(dir, "bundle")
	for _, args := range [][]string{{"build", "-o", tgz, charterPath}, {"build", "--format", "dir", "-o", bdir, charterPath}} {
		if out, err := exec.Command(charterBin, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("charter %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	var rows []measurement
	var scans []measurement
	for _, n := range sizes {
		corpus := filepath.Join(dir, fmt.Sprintf("manifests-%d", n))
		if _, err := bench.Manifests(corpus, n, seed); err != nil {
			return err
		}
		var sc, cf measurement
		for range runs {
			a, err := charterScan(charterBin, tgz, corpus)
			if err != nil {
				return err
			}
			b, err := conftestTest(conftestBin, bdir, corpus)
			if err != nil {
				return err
			}
			if a.objects != n || b.objects != n || a.denied != b.denied {
				return fmt.Errorf("verdicts differ on %d objects: charter denies %d of %d, conftest fails %d of %d", n, a.denied, a.objects, b.denied, b.objects)
			}
			if sc.objects == 0 || a.wall < sc.wall {
				sc = a
			}
			if cf.objects == 0 || b.wall < cf.wall {
				cf = b
			}
		}
		sc.name, cf.name, sc.size, cf.size = "charter audit scan --bundle", "conftest test --namespace charter", n, n
		ratio := cf.wall.Seconds() / sc.wall.Seconds()
		sc.targetLabel = fmt.Sprintf("%.1fx conftest (>= 10x: %s)", ratio, met(ratio >= 10))
		rows = append(rows, sc, cf)
		scans = append(scans, sc)
		if err := os.RemoveAll(corpus); err != nil {
			return err
		}
	}
	if clusterN > 0 {
		m, err := clusterScan(charterBin, tgz, clusterN)
		if err != nil {
			return err
		}
		rows = append(rows, m)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "measurement\tobjects\tdenied\twall\tcpu (user+sys)\tobjects/s\tpeak RSS\ttarget\t")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%d\t%d\t%.2f s\t%.2f s\t%.0f\t%.0f MiB\t%s\t\n", r.name, r.objects, r.denied, r.wall.Seconds(), r.cpu.Seconds(),
			float64(r.objects)/r.wall.Seconds(), float64(r.peakRSS)/(1<<20), r.targetLabel)
	}
	w.Flush()
	if len(scans) > 1 {
		first, last := scans[0], scans[len(scans)-1]
		growth := float64(last.peakRSS) / float64(first.peakRSS)
		fmt.Printf("\ncharter peak RSS %d -> %d objects: %.0f -> %.0f MiB = %.2fx (flat within 2x: %s)\n", first.size, last.size,
			float64(first.peakRSS)/(1<<20), float64(last.peakRSS)/(1<<20), growth, met(growth <= 2))
	}
	return nil
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}

// timed runs cmd, measuring wall and CPU time and the peak RSS of the
// process (its rusage maxrss). Exit 1 (violations) is a normal outcome.
func timed(cmd *exec.Cmd) (measurement, []byte, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil && (cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1) {
		return measurement{}, nil, fmt.Errorf("%s: %v\n%.2000s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	m := measurement{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.peakRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return m, stdout.Bytes(), nil
}

func charterScan(bin, bundle, corpus string) (measurement, error) {
	m, out, err := timed(exec.Command(bin, "audit", "scan", "--bundle", bundle, "-o", "json", corpus))
	if err != nil {
		return m, err
	}
	return m, countResults(&m, out)
}

// countResults counts the objects and denied objects of charter's json output.
func countResults(m *measurement, out []byte) error {
	var res struct {
		Results []struct {
			Allowed bool `json:"allowed"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("charter audit scan output: %w", err)
	}
	m.objects = len(res.Results)
	for _, r := range res.Results {
		if !r.Allowed {
			m.denied++
		}
	}
	return nil
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
