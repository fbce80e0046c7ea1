package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzVerify feeds arbitrary log and stored-hash bytes to the reader and
// verifier (which must never panic), then checks that a log Open repaired
// from records alone always verifies, holding every complete line.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"), []byte{})
	f.Add([]byte("{\"a\":1}\n{\"b\":"), make([]byte, 32))
	f.Add([]byte("\n\n\n"), make([]byte, 100))
	f.Add([]byte(""), []byte{})
	f.Fuzz(func(t *testing.T, log, hashes []byte) {
		dir := fastTempDir(t)
		path := filepath.Join(dir, "audit.jsonl")
		if err := os.WriteFile(path, log, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hashesPath(path), hashes, 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = Verify(path, VerifyOptions{})
		_, _ = ProveRecord(path, 0)

		if err := os.Remove(hashesPath(path)); err != nil {
			t.Fatal(err)
		}
		l, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("open a log of bytes: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Verify(path, VerifyOptions{})
		if err != nil {
			t.Fatalf("verify after open: %v", err)
		}
		if want := int64(bytes.Count(log, []byte("\n"))); r.Records != want {
			t.Fatalf("%d records, want %d", r.Records, want)
		}
	})
}

// FuzzCheckProof feeds arbitrary proofs to the parser and checker: never a
// panic, and a proof that is accepted must round-trip.
func FuzzCheckProof(f *testing.F) {
	s, v := testKey(f)
	path := writeLog(f, 9, 4, s)
	p, err := ProveRecord(path, 4)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(p)
	f.Add(good)
	older, _ := LatestCheckpoint(path)
	f.Add([]byte(`{"schema":"charter.dev/audit-proof/v1","kind":"consistency","checkpoint":` + mustQuote(string(older)) + `,"older":` + mustQuote(string(older)) + `,"proof":[]}`))
	f.Add([]byte(`{"schema":"charter.dev/audit-proof/v1","kind":"inclusion","index":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ver := range []any{nil, v} {
			var got *Proof
			var err error
			if ver == nil {
				got, err = CheckProof(data, nil)
			} else {
				got, err = CheckProof(data, v)
			}
			if err != nil {
				continue
			}
			again, _ := json.Marshal(got)
			if _, err := CheckProof(again, nil); err != nil {
				t.Fatalf("an accepted proof does not round-trip: %v", err)
			}
		}
	})
}

func mustQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// fastTempDir is a temporary directory on tmpfs when there is one: the
// fuzzer runs the log's fsyncs thousands of times.
func fastTempDir(t *testing.T) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "charter-audit-fuzz"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}
