package audit

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendConcurrentAndReopen(t *testing.T) {
	s, v := testKey(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Sync: true, Signer: s, CheckpointEvery: 100})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := l.Append(context.Background(), rec(w*each+i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if l.Size() != writers*each {
		t.Errorf("size %d", l.Size())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(context.Background(), rec(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
	for _, p := range []string{path, hashesPath(path), checkpointsPath(path)} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != FileMode {
			t.Errorf("%s: mode %v, err %v", p, fi.Mode().Perm(), err)
		}
	}
	// Every line is one JSON record with the common header.
	for i, ln := range readLines(t, path) {
		var r map[string]any
		if err := json.Unmarshal(ln, &r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if r["schema"] != Schema || r["override"] != "" || r["bundle"] == nil || r["articles"] == nil {
			t.Fatalf("line %d lacks the header: %s", i+1, ln)
		}
	}
	// Reopen and append: one tree across both sessions.
	l, err = Open(path, Options{Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Recovered().String(); got != "clean" {
		t.Errorf("recovery after a clean close: %s", got)
	}
	if err := l.Append(context.Background(), rec(-1)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(path, VerifyOptions{Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	if r.Records != writers*each+1 || r.Unsealed != 0 || r.Latest.Size != r.Records {
		t.Errorf("report %+v", r)
	}
}

func TestCheckpointInterval(t *testing.T) {
	s, v := testKey(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Signer: s, CheckpointEvery: 1 << 30, CheckpointInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Append(context.Background(), rec(1)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := Verify(path, VerifyOptions{Verifier: v})
		if err == nil && r.Latest != nil && r.Latest.Size == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint after the interval: %v %+v", err, r)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTornTailCutOnOpen(t *testing.T) {
	s, v := testKey(t)
	path := writeLog(t, 5, 2, s)
	whole, _ := os.ReadFile(path)
	torn := []byte(`{"schema":"charter.dev/audit/v1","time":"2026-`)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(torn)
	f.Close()
	r, err := Verify(path, VerifyOptions{Verifier: v})
	if err != nil || r.TornBytes != len(torn) {
		t.Fatalf("verify before reopen: %v %+v", err, r)
	}
	l, err := Open(path, Options{Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	got := l.Recovered()
	if got.TornBytes != len(torn) || got.TornOffset != int64(len(whole)) {
		t.Errorf("recovery %+v", got)
	}
	t.Logf("recovery: %s", got)
	if err := l.Append(context.Background(), rec(5)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if r, err := Verify(path, VerifyOptions{Verifier: v}); err != nil || r.Records != 6 || r.TornBytes != 0 {
		t.Fatalf("verify after reopen: %v %+v", err, r)
	}
	saved, err := os.ReadFile(tornPath(path))
	if err != nil || !strings.Contains(string(saved), `"offset":`) {
		t.Errorf("torn bytes not kept: %s %v", saved, err)
	}
}

// Records written but not hashed (a crash between the two writes) are
// hashed on open.
func TestMissingHashesRecomputedOnOpen(t *testing.T) {
	s, v := testKey(t)
	path := writeLog(t, 6, 100, s)
	fi, _ := os.Stat(hashesPath(path))
	if err := os.Truncate(hashesPath(path), fi.Size()-40); err != nil { // mid-hash
		t.Fatal(err)
	}
	l, err := Open(path, Options{Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	if l.Recovered().Rehashed != 1 {
		t.Errorf("recovery %+v", l.Recovered())
	}
	l.Close()
	if _, err := Verify(path, VerifyOptions{Verifier: v}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesTruncatedLog(t *testing.T) {
	s, _ := testKey(t)
	path := writeLog(t, 6, 2, s)
	lines := readLines(t, path)
	writeLines(t, path, lines[:4])
	_, err := Open(path, Options{Signer: s})
	if !IsFailure(err) || !strings.Contains(err.Error(), "log truncated: the last checkpoint covers 6 records") {
		t.Fatalf("open of a truncated log: %v", err)
	}
	if err := os.Remove(checkpointsPath(path)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{Signer: s})
	if !IsFailure(err) || !strings.Contains(err.Error(), "records missing: the stored tree has 6 records, the log 4") {
		t.Fatalf("open of a truncated log without checkpoints: %v", err)
	}
}

// A failed write is fatal: the log refuses every later record with the
// same error instead of retrying.
func TestWriteErrorIsFatal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	l.f.Close() // the next write fails
	err1 := l.Append(context.Background(), rec(1))
	err2 := l.Append(context.Background(), rec(2))
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() || !strings.Contains(err1.Error(), "no more records are accepted") {
		t.Fatalf("appends after a write error: %v / %v", err1, err2)
	}
	if l.Err() == nil {
		t.Error("Err() is nil after a write error")
	}
	if err := l.Close(); err == nil {
		t.Error("close hides the fatal error")
	}
}

func TestRotationKeepsOneTree(t *testing.T) {
	s, v := testKey(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Signer: s, MaxSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if err := l.Append(context.Background(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	segs, _ := segments(path)
	if len(segs) < 4 {
		t.Fatalf("%d files after rotation", len(segs))
	}
	r, err := Verify(path, VerifyOptions{Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	if r.Records != 40 || r.Files != len(segs) {
		t.Errorf("report %+v, %d files", r, len(segs))
	}
	p, err := ProveRecord(path, 3)
	if err != nil || !strings.Contains(p.Record, `"n":3`) {
		t.Fatalf("prove a record in a rotated file: %v %+v", err, p)
	}
	// Deleting a rotated file is a gap in the history.
	if err := os.Remove(segs[1].path); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(path, VerifyOptions{Verifier: v})
	var f *Failure
	if !errors.As(err, &f) || f.Record != segs[1].first || !strings.Contains(f.Reason, "missing") {
		t.Fatalf("deleted rotated file: %v", err)
	}
	t.Logf("deleted rotated file: %v", err)
}

func TestBundleOf(t *testing.T) {
	for _, tc := range []struct {
		meta map[string]any
		want int64
	}{
		{nil, 0},
		{map[string]any{"serial": float64(42)}, 42},
		{map[string]any{"serial": int64(7)}, 7},
		{map[string]any{"serial": json.Number("9")}, 9},
		{map[string]any{"serial": 1.5}, 0},
		{map[string]any{"serial": "12"}, 0},
	} {
		if got := BundleOf("rev", tc.meta); got.Serial != tc.want || got.Revision != "rev" {
			t.Errorf("BundleOf(%v) = %+v, want serial %d", tc.meta, got, tc.want)
		}
	}
}

func TestJSONLinesStream(t *testing.T) {
	var b strings.Builder
	j := NewJSONLines(&b)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := j.Append(context.Background(), rec(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 50 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var r testRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Schema != Schema {
			t.Fatalf("line %q: %v", l, err)
		}
	}
	type bad struct {
		Header
		F func() `json:"f"`
	}
	if err := j.Append(context.Background(), &bad{}); err == nil || !strings.Contains(err.Error(), "encode audit record") {
		t.Errorf("unencodable record: %v", err)
	}
}
