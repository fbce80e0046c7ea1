// Command audit is the `make bench` audit log benchmark: append throughput
// with fsync group commit (--audit-sync) at 1, 8 and 64 concurrent writers,
// the same without fsync for comparison, and the time to verify a log of
// 1,000,000 records against its tree and signed checkpoints.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/test/bench"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/mod/sumdb/note"
)

// record is the size and shape of a webhook admission record.
type record struct {
	audit.Header
	UID       string `json:"uid"`
	User      string `json:"user"`
	Operation string `json:"operation"`
	Object    struct {
		Version   string `json:"version"`
		Kind      string `json:"kind"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"object"`
	Evaluated bool `json:"evaluated"`
	DryRun    bool `json:"dryRun"`
}

func newRecord(i int) *record {
	r := &record{Header: audit.Header{Source: "webhook", Decision: "denied",
		Bundle: audit.Bundle{Revision: "sha256:ed9532f04b99f440cb4bc0bff8a331ff3f4aff67db4b0d324a037e91554b251e", Serial: 7},
		Articles: []audit.Article{{ID: "AD-001", Action: "deny", Severity: "critical",
			Message: "container app is privileged; remove securityContext.privileged", Path: "spec.containers[0].securityContext.privileged"}}},
		UID: fmt.Sprintf("%032x", i), User: "system:serviceaccount:shop:deployer", Operation: "CREATE", Evaluated: true}
	r.Object.Version, r.Object.Kind, r.Object.Namespace, r.Object.Name = "v1", "Pod", "shop", fmt.Sprintf("web-%d", i)
	return r
}

func main() {
	dirFlag := flag.String("dir", "", "directory for the logs (default: a temporary directory on the working disk)")
	d := flag.Duration("duration", 3*time.Second, "length of each append run")
	n := flag.Int("verify-records", 1_000_000, "records in the verify run")
	flag.Parse()
	dir := *dirFlag
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp(".", ".bench-audit-"); err != nil {
			fail(err)
		}
		defer os.RemoveAll(dir)
	}
	sv, _, err := signature.NewDefaultECDSASignerVerifier()
	if err != nil {
		fail(err)
	}
	signer, _ := audit.NoteSigner(sv)
	verifier, _ := audit.NoteVerifier(sv)

	fmt.Printf("audit log append, %s per run, records of %d bytes, GOMAXPROCS=%d, load average %s, files in %s\n",
		*d, recordSize(), runtime.GOMAXPROCS(0), bench.LoadAverage(), dir)
	fmt.Printf("%-8s %8s %12s %10s %10s %12s %12s %10s\n", "mode", "writers", "records/s", "p50", "p99", "rec/commit", "mean fsync", "CPU/rec")
	for _, sync := range []bool{true, false} {
		for _, w := range []int{1, 8, 64} {
			cpu0 := bench.CPUTime()
			rps, p50, p99, st := appendRun(filepath.Join(dir, fmt.Sprintf("append-%v-%d.jsonl", sync, w)), signer, sync, w, *d)
			mode := "fsync"
			if !sync {
				mode = "write"
			}
			meanSync := "-"
			if st.Syncs > 0 {
				meanSync = ms(st.SyncTime / time.Duration(st.Syncs))
			}
			cpu := (bench.CPUTime() - cpu0) / time.Duration(st.Records)
			fmt.Printf("%-8s %8d %12.0f %10s %10s %12.1f %12s %10s\n", mode, w, rps, ms(p50), ms(p99), float64(st.Records)/float64(st.Commits), meanSync, us(cpu))
		}
	}
	fmt.Println("fsync: --audit-sync, each Append returns after its group's fsync; write: the default, after write(2)")
	fmt.Println("rec/commit: records per group commit (one write(2), and with fsync one fsync); mean fsync: of every fsync, checkpoints' included;")
	fmt.Println("CPU/rec: this process's CPU time (user + system, the kernel's writeback in fsync included) per record")

	path := filepath.Join(dir, "verify.jsonl")
	load := bench.LoadAverage()
	start := time.Now()
	fill(path, signer, *n)
	fmt.Printf("\nwrote %d records in %s (no fsync per record, 64 writers)\n", *n, time.Since(start).Round(time.Millisecond))
	fi, _ := os.Stat(path)
	start = time.Now()
	cpu0 := bench.CPUTime()
	r, err := audit.Verify(path, audit.VerifyOptions{Verifier: verifier})
	if err != nil {
		fail(err)
	}
	el, cpu := time.Since(start), bench.CPUTime()-cpu0
	fmt.Printf("verify %d records (%.0f MiB, %d signed checkpoints): %s wall, %s CPU (target < 10s); load average before: %s\n",
		r.Records, float64(fi.Size())/(1<<20), r.Checkpoints, el.Round(time.Millisecond), cpu.Round(time.Millisecond), load)
}

func recordSize() int {
	b, _ := newRecordJSON()
	return len(b)
}

func newRecordJSON() ([]byte, error) {
	var buf = &bytesWriter{}
	j := audit.NewJSONLines(buf)
	err := j.Append(context.Background(), newRecord(0))
	return buf.b, err
}

type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func appendRun(path string, s note.Signer, durable bool, writers int, d time.Duration) (float64, time.Duration, time.Duration, audit.Stats) {
	l, err := audit.Open(path, audit.Options{Sync: durable, Signer: s})
	if err != nil {
		fail(err)
	}
	var count atomic.Int64
	lats := make([][]time.Duration, writers)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				if err := l.Append(context.Background(), newRecord(i)); err != nil {
					fail(err)
				}
				lats[w] = append(lats[w], time.Since(t0))
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	st := l.Stats()
	if err := l.Close(); err != nil {
		fail(err)
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	return float64(count.Load()) / el.Seconds(), all[len(all)/2], all[len(all)*99/100], st
}

func fill(path string, s note.Signer, n int) {
	l, err := audit.Open(path, audit.Options{Signer: s})
	if err != nil {
		fail(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if err := l.Append(context.Background(), newRecord(int(i))); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		fail(err)
	}
}

func us(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-audit:", err)
	os.Exit(1)
}
