package audit

import (
	"bufio"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// The crash test kills a writer process with SIGKILL at random points, many
// times, and after each kill checks that the log reopens (cutting a torn
// tail), verifies against its signed checkpoints, and holds every record the
// writer saw acknowledged. It runs for AUDIT_CRASH_SECONDS (3 by default;
// `make crash-audit` runs it longer).

const crashEnv = "CHARTER_AUDIT_CRASH_WRITER"

type crashRecord struct {
	Header
	Run int    `json:"run"`
	I   int    `json:"i"`
	Pad string `json:"pad,omitempty"`
}

// pad makes one record in eight large, so a kill can land in the middle of
// writing it (the kernel stops a large write between pages for SIGKILL).
var pad = strings.Repeat("x", 256<<10)

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashWriter(dir)
		return
	}
	os.Exit(m.Run())
}

// crashWriter appends records from 4 goroutines and prints "run i" for
// each acknowledged one, until it is killed.
func crashWriter(dir string) {
	run, _ := strconv.Atoi(os.Getenv("CHARTER_AUDIT_CRASH_RUN"))
	sv, err := signature.LoadSignerVerifierFromPEMFile(filepath.Join(dir, "key.pem"), crypto.SHA256, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	s, _ := NoteSigner(sv)
	l, err := Open(filepath.Join(dir, "audit.jsonl"), Options{Sync: true, Signer: s, CheckpointEvery: 7, MaxSize: 4 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i += 4 {
				r := &crashRecord{Header: Header{Source: "crash", Decision: "denied"}, Run: run, I: i}
				if i%8 == 3 {
					r.Pad = pad
				}
				if err := l.Append(context.Background(), r); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "%d %d\n", run, i)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestCrashKill9(t *testing.T) {
	budget := 3 * time.Second
	if s := os.Getenv("AUDIT_CRASH_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("AUDIT_CRASH_SECONDS=%q", s)
		}
		budget = time.Duration(n) * time.Second
	}
	dir := t.TempDir()
	sv, priv, err := signature.NewDefaultECDSASignerVerifier()
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := cryptoutils.MarshalPrivateKeyToPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	v, _ := NoteVerifier(sv)
	path := filepath.Join(dir, "audit.jsonl")
	exe, _ := os.Executable()
	acked := map[[2]int]bool{}
	kills, torn := 0, 0
	start := time.Now()
	for run := 0; time.Since(start) < budget || run < 5; run++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, "CHARTER_AUDIT_CRASH_RUN="+strconv.Itoa(run))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a random point after the writer is running (and, once
		// in eight runs, while it may still be opening the log).
		lines := make(chan [2]int, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var r, i int
				if _, err := fmt.Sscanf(sc.Text(), "%d %d", &r, &i); err == nil {
					lines <- [2]int{r, i}
				}
			}
		}()
		if rand.IntN(8) > 0 {
			select {
			case k, ok := <-lines:
				if ok {
					acked[k] = true
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("run %d: the writer acknowledged nothing in 5 s", run)
			}
		}
		time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for k := range lines {
			acked[k] = true
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("run %d: writer exited on its own: %v", run, err)
		}
		kills++

		// Reopen: the torn tail is cut and the tree is completed.
		l, err := Open(path, Options{Signer: mustSigner(t, sv)})
		if err != nil {
			t.Fatalf("run %d: reopen after kill -9: %v", run, err)
		}
		if l.Recovered().TornBytes > 0 {
			torn++
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(path, VerifyOptions{Verifier: v}); err != nil {
			t.Fatalf("run %d: verify after kill -9: %v", run, err)
		}
	}
	present := map[[2]int]bool{}
	segs, _ := segments(path)
	for _, s := range segs {
		f, err := os.Open(s.path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r crashRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", s.path, err)
			}
			present[[2]int{r.Run, r.I}] = true
		}
		f.Close()
	}
	for k := range acked {
		if !present[k] {
			t.Errorf("acknowledged record run %d i %d is missing", k[0], k[1])
		}
	}
	t.Logf("crash test: %d kill -9s survived (%d left a torn tail), %d acknowledged records checked present, %d records in %d files",
		kills, torn, len(acked), len(present), len(segs))
	fmt.Printf("audit crash test: %d kills, %d torn tails cut, %d acknowledged records checked, %d records in the log\n", kills, torn, len(acked), len(present))
}

func mustSigner(t *testing.T, sv signature.SignerVerifier) *noteSigner {
	t.Helper()
	s, err := NoteSigner(sv)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*noteSigner)
}
