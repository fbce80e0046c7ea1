package audit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// rotatedLog writes 40 records in files of about 1000 bytes and returns the
// log's path, its files and the checkpoint verifier.
func rotatedLog(t *testing.T) (string, []segment, note.Verifier) {
	t.Helper()
	s, v := testKey(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Signer: s, MaxSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if err := l.Append(t.Context(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := segments(path)
	if err != nil || len(segs) < 4 {
		t.Fatalf("%d files after rotation: %v", len(segs), err)
	}
	return path, segs, v
}

// Each rotated file that can go missing is named in the failure.
func TestTamperRotatedFileRemoved(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pick   func(segs []segment) segment
		reason func(path string, gone segment) string
	}{
		{"first", func(s []segment) segment { return s[0] }, func(string, segment) string {
			return "records 0 to 5 are missing: the next file"
		}},
		{"middle", func(s []segment) segment { return s[1] }, func(string, segment) string {
			return "records 6 to 11 are missing: the next file"
		}},
		{"last rotated", func(s []segment) segment { return s[len(s)-2] }, func(path string, g segment) string {
			return "(they would be the rotated file " + segmentPath(path, g.first, g.last) + ", which does not exist)"
		}},
		{"active", func(s []segment) segment { return s[len(s)-1] }, func(path string, _ segment) string {
			return "(the active file " + path + " is missing)"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, segs, v := rotatedLog(t)
			gone := tc.pick(segs)
			if err := os.Remove(gone.path); err != nil {
				t.Fatal(err)
			}
			_, err := Verify(path, VerifyOptions{Verifier: v})
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("verify = %v, want a *Failure", err)
			}
			if want := tc.reason(path, gone); !strings.Contains(f.Reason, want) {
				t.Errorf("failure %q does not say %q", f.Reason, want)
			}
			first := gone.first
			if gone.last < 0 {
				first = segs[len(segs)-2].last + 1
			}
			if f.Record != first {
				t.Errorf("failure names record %d, want %d (the first record of the removed file)", f.Record, first)
			}
		})
	}
}

// LOG.checkpoints swapped for another log's, signed by the same key (two
// webhooks sharing one audit key): detected, and the message says so.
func TestTamperCheckpointsFromAnotherLog(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mine, them int
	}{
		{"shorter log's", 10, 8},
		{"longer log's", 10, 12},
		{"same size", 10, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, v := testKey(t)
			path := writeLog(t, tc.mine, 4, s)
			other := writeLog(t, tc.them, 4, s)
			data, err := os.ReadFile(checkpointsPath(other))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(checkpointsPath(path), data, FileMode); err != nil {
				t.Fatal(err)
			}
			_, err = Verify(path, VerifyOptions{Verifier: v})
			var f *Failure
			if !errors.As(err, &f) || !strings.Contains(f.Reason, checkpointsPath(path)+" holds another log's checkpoints") {
				t.Fatalf("verify = %v, want a failure saying the checkpoints are another log's", err)
			}
		})
	}
}

// An older checkpoint (--checkpoint) of another log, signed by the same key.
func TestOlderCheckpointFromAnotherLog(t *testing.T) {
	s, v := testKey(t)
	path := writeLog(t, 10, 4, s)
	older, err := LatestCheckpoint(writeLog(t, 6, 4, s))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(path, VerifyOptions{Verifier: v, Older: older})
	if !IsFailure(err) || !strings.Contains(err.Error(), "not an append-only extension of the older checkpoint (6 records)") {
		t.Fatalf("verify = %v", err)
	}
}

// A valid proof of record 5 handed over when record 7 was asked about.
func TestProofForAnotherRecord(t *testing.T) {
	s, v := testKey(t)
	path := writeLog(t, 12, 4, s)
	p, err := ProveRecord(path, 5)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(p)
	got, err := CheckProof(data, v)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.For(5); err != nil {
		t.Errorf("the proof of record 5 is not for record 5: %v", err)
	}
	err = got.For(7)
	var f *Failure
	if !errors.As(err, &f) || f.Record != 7 || !strings.Contains(f.Reason, "the proof is for record 5, not record 7") {
		t.Errorf("For(7) = %v", err)
	}
	older, err := LatestCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := ProveExtension(path, older)
	if err != nil {
		t.Fatal(err)
	}
	if err := cons.For(7); !IsFailure(err) || !strings.Contains(err.Error(), "this is a consistency proof, not a proof that record 7 is in the log") {
		t.Errorf("consistency proof For(7) = %v", err)
	}
}
