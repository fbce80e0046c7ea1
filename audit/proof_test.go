package audit

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestInclusionProof(t *testing.T) {
	s, v := testKey(t)
	path := writeLog(t, 37, 10, s)
	for _, n := range []int64{0, 1, 17, 36} {
		p, err := ProveRecord(path, n)
		if err != nil {
			t.Fatalf("prove %d: %v", n, err)
		}
		data, _ := json.Marshal(p)
		got, err := CheckProof(data, v)
		if err != nil {
			t.Fatalf("check proof of %d: %v", n, err)
		}
		if got.Index != n || !strings.Contains(got.Record, `"n":`) {
			t.Errorf("proof %+v", got)
		}
	}
	if _, err := ProveRecord(path, 37); err == nil {
		t.Error("proved a record past the latest checkpoint")
	}
}

func TestInclusionProofRejects(t *testing.T) {
	s, v := testKey(t)
	path := writeLog(t, 20, 10, s)
	p, err := ProveRecord(path, 5)
	if err != nil {
		t.Fatal(err)
	}
	_, other := testKey(t)
	for _, tc := range []struct {
		name string
		edit func(p Proof) Proof
		v    func() any
		want string
	}{
		{"modified record", func(p Proof) Proof { p.Record = strings.Replace(p.Record, `"allowed"`, `"denied"`, 1); return p }, nil, "not in the checkpoint's tree"},
		{"other index", func(p Proof) Proof { p.Index = 6; return p }, nil, "not in the checkpoint's tree"},
		{"index past the checkpoint", func(p Proof) Proof { p.Index = 99; return p }, nil, "covers 20 records only"},
		{"altered proof hash", func(p Proof) Proof { p.Hashes[0][0] ^= 1; return p }, nil, "not in the checkpoint's tree"},
		{"missing proof hash", func(p Proof) Proof { p.Hashes = p.Hashes[1:]; return p }, nil, "not in the checkpoint's tree"},
		{"checkpoint of another size", func(p Proof) Proof {
			p.Checkpoint = strings.Replace(p.Checkpoint, "\n20\n", "\n21\n", 1)
			return p
		}, nil, "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := *p
			q.Hashes = append(q.Hashes[:0:0], p.Hashes...)
			q = tc.edit(q)
			data, _ := json.Marshal(q)
			_, err := CheckProof(data, v)
			if !IsFailure(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("check = %v, want a failure with %q", err, tc.want)
			}
		})
	}
	data, _ := json.Marshal(p)
	if _, err := CheckProof(data, other); !IsFailure(err) || !strings.Contains(err.Error(), "not signed by the given key") {
		t.Errorf("proof checked with another key: %v", err)
	}
}

func TestParseProofRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not json", `{`, "parse proof"},
		{"unknown field", `{"schema":"charter.dev/audit-proof/v1","kind":"inclusion","extra":1}`, "unknown field"},
		{"other schema", `{"schema":"v0","kind":"inclusion"}`, "schema"},
		{"other kind", `{"schema":"charter.dev/audit-proof/v1","kind":"both"}`, "kind"},
		{"trailing data", `{"schema":"charter.dev/audit-proof/v1","kind":"inclusion"} {}`, "after the proof"},
		{"bad hash", `{"schema":"charter.dev/audit-proof/v1","kind":"inclusion","proof":["xx"]}`, "parse proof"},
		{"consistency with a record", `{"schema":"charter.dev/audit-proof/v1","kind":"consistency","record":"{}"}`, "no record"},
	} {
		if _, err := ParseProof([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestConsistency(t *testing.T) {
	s, v := testKey(t)
	path := writeLog(t, 10, 4, s)
	older, err := LatestCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	// More records, appended in a later session.
	l, err := Open(path, Options{Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if err := l.Append(t.Context(), rec(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	r, err := Verify(path, VerifyOptions{Verifier: v, Older: older})
	if err != nil || r.Older == nil || r.Older.Size != 10 {
		t.Fatalf("verify --checkpoint: %v %+v", err, r)
	}
	p, err := ProveExtension(path, older)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(p)
	if _, err := CheckProof(data, v); err != nil {
		t.Fatalf("check consistency proof: %v", err)
	}
	// A tampered proof fails.
	p.Hashes[0][3] ^= 1
	data, _ = json.Marshal(p)
	if _, err := CheckProof(data, v); !IsFailure(err) || !strings.Contains(err.Error(), "does not extend") {
		t.Errorf("altered consistency proof: %v", err)
	}

	// A log rewritten from scratch (same size, other content, same key) is
	// not an extension of the older checkpoint.
	forged := writeLog(t, 35, 4, s)
	_, err = Verify(forged, VerifyOptions{Verifier: v, Older: older})
	if !IsFailure(err) || !strings.Contains(err.Error(), "not an append-only extension") {
		t.Errorf("rewritten log: %v", err)
	}
	// A log truncated behind the older checkpoint.
	short := writeLog(t, 5, 4, s)
	_, err = Verify(short, VerifyOptions{Verifier: v, Older: older})
	var f *Failure
	if !errors.As(err, &f) || f.Record != 5 || !strings.Contains(f.Reason, "older checkpoint covers 10") {
		t.Errorf("shorter log: %v", err)
	}
	// An older checkpoint signed by another key.
	other, otherV := testKey(t)
	otherLog := writeLog(t, 3, 4, other)
	foreign, _ := LatestCheckpoint(otherLog)
	if _, err := Verify(path, VerifyOptions{Verifier: v, Older: foreign}); !IsFailure(err) {
		t.Errorf("foreign older checkpoint: %v", err)
	}
	_ = otherV
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestCheckpointText(t *testing.T) {
	s, v := testKey(t)
	path := writeLog(t, 3, 4, s)
	msg, err := LatestCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(msg), "\n")
	if lines[0] != Origin || lines[1] != "3" || !strings.HasPrefix(lines[3], "time ") || !strings.HasPrefix(lines[5], "— charter-audit ") {
		t.Errorf("checkpoint note:\n%s", msg)
	}
	cp, err := OpenCheckpoint(msg, v)
	if err != nil || cp.Size != 3 || !cp.Signed {
		t.Fatalf("open checkpoint: %v %+v", err, cp)
	}
	for _, bad := range []string{
		"",
		"charter.dev/audit/v1\n3\n",
		"other/origin\n3\nAAAA\ntime 2026-01-01T00:00:00Z\n",
		"charter.dev/audit/v1\n-1\nAAAA\ntime 2026-01-01T00:00:00Z\n",
		"charter.dev/audit/v1\n03\nAAAA\ntime 2026-01-01T00:00:00Z\n",
		"charter.dev/audit/v1\n3\nAAAA\ntime 2026-01-01T00:00:00Z\n",
		"charter.dev/audit/v1\n3\n" + lines[2] + "\ntime yesterday\n",
		"charter.dev/audit/v1\n3\n" + lines[2] + "\nwhen 2026-01-01T00:00:00Z\n",
	} {
		if _, err := ParseCheckpointText(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
