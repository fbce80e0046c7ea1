package audit

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/mod/sumdb/note"
)

type testRecord struct {
	Header
	N int `json:"n"`
}

func rec(n int) *testRecord {
	return &testRecord{Header: Header{Source: "test", Decision: "allowed", Bundle: Bundle{Revision: "r1"}}, N: n}
}

// testKey is a fresh sigstore ECDSA P-256 signer and its note signer and
// verifier.
func testKey(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	sv, _, err := signature.NewDefaultECDSASignerVerifier()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NoteSigner(sv)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NoteVerifier(sv)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// writeLog writes n records to a new log in a temporary directory, with
// checkpoints every `every` records, and closes it.
func writeLog(t testing.TB, n int, every int64, s note.Signer) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Signer: s, CheckpointEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := l.Append(context.Background(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		out = append(out, append([]byte(nil), b[:min(i+1, len(b))]...))
		b = b[min(i+1, len(b)):]
	}
	return out
}

func writeLines(t testing.TB, path string, lines [][]byte) {
	t.Helper()
	var b []byte
	for _, l := range lines {
		b = append(b, l...)
	}
	if err := os.WriteFile(path, b, FileMode); err != nil {
		t.Fatal(err)
	}
}
