package audit

import (
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// The tamper table: each way to rewrite history is its own test, and each
// names the first bad record, its line and its byte offset.

func tampered(t *testing.T, edit func(lines [][]byte) [][]byte) (string, note.Verifier) {
	t.Helper()
	s, v := testKey(t)
	path := writeLog(t, 10, 4, s)
	if _, err := Verify(path, VerifyOptions{Verifier: v}); err != nil {
		t.Fatalf("untouched log: %v", err)
	}
	writeLines(t, path, edit(readLines(t, path)))
	return path, v
}

func wantFailure(t *testing.T, path string, v note.Verifier, record, line int64, reason string) {
	t.Helper()
	_, err := Verify(path, VerifyOptions{Verifier: v})
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("verify = %v, want a *Failure", err)
	}
	t.Logf("verify: %v", f)
	if f.Record != record || (line > 0 && f.Line != line) || !strings.Contains(f.Reason, reason) {
		t.Errorf("failure = record %d line %d %q, want record %d line %d %q", f.Record, f.Line, f.Reason, record, line, reason)
	}
	if line > 0 {
		lines := readLines(t, path)
		var off int64
		for _, l := range lines[:line-1] {
			off += int64(len(l))
		}
		if f.Offset != off {
			t.Errorf("offset %d, want %d", f.Offset, off)
		}
	}
	if !strings.Contains(f.Error(), "record ") {
		t.Errorf("message does not name the record: %v", f)
	}
}

func TestTamperModify(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte {
		l[6] = []byte(strings.Replace(string(l[6]), `"allowed"`, `"denied"`, 1))
		return l
	})
	wantFailure(t, path, v, 6, 7, "modified")
}

func TestTamperDelete(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte { return append(l[:3:3], l[4:]...) })
	wantFailure(t, path, v, 3, 4, "deleted: records 3 to 3")
}

func TestTamperInsert(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte {
		forged := []byte(strings.Replace(string(l[5]), `"n":5`, `"n":55`, 1))
		return append(l[:5:5], append([][]byte{forged}, l[5:]...)...)
	})
	wantFailure(t, path, v, 5, 6, "inserted")
}

func TestTamperDuplicate(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte {
		return append(l[:3:3], append([][]byte{l[2]}, l[3:]...)...)
	})
	wantFailure(t, path, v, 3, 4, "duplicated: this is a copy of record 2")
}

func TestTamperReorder(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte {
		l[1], l[2] = l[2], l[1]
		return l
	})
	wantFailure(t, path, v, 1, 2, "reordered")
}

func TestTamperTruncate(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte { return l[:7] })
	wantFailure(t, path, v, 7, 0, "log truncated")
}

// Truncating the log and its stored hashes together is still caught: the
// last signed checkpoint covers more records than remain.
func TestTamperTruncateWithHashes(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte { return l[:7] })
	if err := os.Truncate(hashesPath(path), 0); err != nil {
		t.Fatal(err)
	}
	wantFailure(t, path, v, 7, 0, "log truncated: checkpoint")
}

// Rewriting a record and recomputing the stored hashes defeats the stored
// tree, not the signed checkpoints.
func TestTamperModifyAndRehash(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte {
		l[6] = []byte(strings.Replace(string(l[6]), `"allowed"`, `"denied"`, 1))
		return l
	})
	if err := os.Remove(hashesPath(path)); err != nil {
		t.Fatal(err)
	}
	l, err := Open(path, Options{}) // rehashes every record, as an attacker would
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wantFailure(t, path, v, 4, 0, "checkpoint 2 (8 records) does not match the records: one of records 4 to 7")
}

func TestTamperStoredHash(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte { return l })
	b, err := os.ReadFile(hashesPath(path))
	if err != nil {
		t.Fatal(err)
	}
	b[2*32] ^= 1 // the stored hash of the 1st interior node, over records 0 and 1
	if err := os.WriteFile(hashesPath(path), b, FileMode); err != nil {
		t.Fatal(err)
	}
	wantFailure(t, path, v, 0, 1, "stored hash 2 (over records 0 to 1)")
}

func TestTamperForgedCheckpoint(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte { return l })
	other, _ := testKey(t)
	// A log whose checkpoints are signed by another key.
	forged := writeLog(t, 10, 4, other)
	_, err := Verify(forged, VerifyOptions{Verifier: v})
	if !IsFailure(err) || !strings.Contains(err.Error(), "not signed by the given key") {
		t.Errorf("checkpoint by another key: %v", err)
	}
	// A checkpoint whose signature bytes were edited.
	b, err := os.ReadFile(checkpointsPath(path))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(string(b), `\u2014 charter-audit `) + len(`\u2014 charter-audit `) + 8
	b[i] ^= 1
	if err := os.WriteFile(checkpointsPath(path), b, FileMode); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(path, VerifyOptions{Verifier: v})
	if !IsFailure(err) {
		t.Errorf("edited signature: %v", err)
	}
	t.Logf("edited signature: %v", err)
}

func TestTamperDeletedCheckpoints(t *testing.T) {
	path, v := tampered(t, func(l [][]byte) [][]byte { return l })
	if err := os.Remove(checkpointsPath(path)); err != nil {
		t.Fatal(err)
	}
	_, err := Verify(path, VerifyOptions{Verifier: v})
	if !IsFailure(err) || !strings.Contains(err.Error(), "no signed checkpoint") {
		t.Errorf("deleted checkpoints: %v", err)
	}
	// Without a key the tree still verifies.
	if _, err := Verify(path, VerifyOptions{}); err != nil {
		t.Errorf("without a key: %v", err)
	}
}
