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
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"

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
	bench.Run
	name        string
	size        int
	targetLabel string
}

func run(charterPath, sizeList, charterBin, conftestBin string, runs int, seed uint64, clusterN int) error {
	if err := bench.NeedFiles(charterPath, charterBin, conftestBin); err != nil {
		return err
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
	tgz, bdir, err := bench.BuildBundles(charterBin, charterPath, dir)
	if err != nil {
		return err
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
			a, err := bench.RunCharter(charterBin, "audit", "scan", "--bundle", tgz, "-o", "json", corpus)
			if err != nil {
				return err
			}
			b, err := bench.RunConftest(conftestBin, bdir, corpus)
			if err != nil {
				return err
			}
			if a.Objects != n || b.Objects != n || a.Denied != b.Denied {
				return fmt.Errorf("verdicts differ on %d objects: charter denies %d of %d, conftest fails %d of %d", n, a.Denied, a.Objects, b.Denied, b.Objects)
			}
			if sc.Objects == 0 || a.Wall < sc.Wall {
				sc.Run = a
			}
			if cf.Objects == 0 || b.Wall < cf.Wall {
				cf.Run = b
			}
		}
		sc.name, cf.name, sc.size, cf.size = "charter audit scan --bundle", "conftest test --namespace charter", n, n
		ratio := cf.Wall.Seconds() / sc.Wall.Seconds()
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
		fmt.Fprintf(w, "%s\t%d\t%d\t%.2f s\t%.2f s\t%.0f\t%.0f MiB\t%s\t\n", r.name, r.Objects, r.Denied, r.Wall.Seconds(), r.CPU.Seconds(),
			r.Rate(), float64(r.PeakRSS)/(1<<20), r.targetLabel)
	}
	w.Flush()
	if len(scans) > 1 {
		first, last := scans[0], scans[len(scans)-1]
		growth := float64(last.PeakRSS) / float64(first.PeakRSS)
		fmt.Printf("\ncharter peak RSS %d -> %d objects: %.0f -> %.0f MiB = %.2fx (flat within 2x: %s)\n", first.size, last.size,
			float64(first.PeakRSS)/(1<<20), float64(last.PeakRSS)/(1<<20), growth, met(growth <= 2))
	}
	return nil
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT MET"
}
