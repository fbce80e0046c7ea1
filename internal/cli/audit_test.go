package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	sigkeys "github.com/charter-dev/charter/keys"
)

// cosignKeys writes a cosign-format key pair (ENCRYPTED SIGSTORE PRIVATE
// KEY, password "pw") and returns the paths.
func cosignKeys(t *testing.T) (priv, pub string) {
	t.Helper()
	pair, err := sigkeys.Generate([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	priv, pub, err = sigkeys.WriteFiles(filepath.Join(t.TempDir(), "cosign"), pair)
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func TestAuditCommands(t *testing.T) {
	t.Setenv("COSIGN_PASSWORD", "pw")
	priv, pub := cosignKeys(t)
	_, otherPub := cosignKeys(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.jsonl")
	charter := "../../policies/anti-delos.yaml"
	manifests := "../../examples/manifests/"

	code, _, stderr := run(t, "", "eval", "--charter", charter, "--audit-log", log, "--audit-key", priv, "--audit-sync", "--audit-max-size", "4Ki", manifests)
	if code != ExitViolation {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	code, out, stderr := run(t, "", "audit", "verify", "--key", pub, log)
	if code != ExitOK || !strings.Contains(out, "all signed by the key") {
		t.Fatalf("verify exit %d: %s %s", code, out, stderr)
	}
	t.Log(out)
	if code, _, stderr := run(t, "", "audit", "verify", "--key", otherPub, log); code != ExitViolation || !strings.Contains(stderr, "not signed by the given key") {
		t.Errorf("verify with another key: exit %d %s", code, stderr)
	}

	older := filepath.Join(dir, "older.cp")
	if code, _, stderr := run(t, "", "audit", "checkpoint", log, "-o", older); code != ExitOK {
		t.Fatalf("checkpoint exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, "", "audit", "checkpoint", log, "-o", older); code != ExitBadInput || !strings.Contains(stderr, "exists") {
		t.Errorf("checkpoint over an existing file: exit %d %s", code, stderr)
	}
	// A second session extends the log.
	if code, _, stderr := run(t, "", "eval", "--charter", charter, "--audit-log", log, "--audit-key", priv, manifests); code != ExitViolation {
		t.Fatalf("eval exit %d: %s", code, stderr)
	}
	if code, out, stderr := run(t, "", "audit", "verify", "--key", pub, "--checkpoint", older, log); code != ExitOK || !strings.Contains(out, "append-only extension") {
		t.Fatalf("verify --checkpoint exit %d: %s %s", code, out, stderr)
	}

	proof := filepath.Join(dir, "proof.json")
	if code, _, stderr := run(t, "", "audit", "prove", log, "--record", "2", "-o", proof); code != ExitOK {
		t.Fatalf("prove exit %d: %s", code, stderr)
	}
	if code, out, stderr := run(t, "", "audit", "verify", "--proof", proof, "--key", pub); code != ExitOK || !strings.Contains(out, "record 2 is in the log") {
		t.Fatalf("verify --proof exit %d: %s %s", code, out, stderr)
	}
	if code, out, stderr := run(t, "", "audit", "verify", "--proof", proof, "--record", "2", "--key", pub); code != ExitOK || !strings.Contains(out, "record 2 is in the log") {
		t.Fatalf("verify --proof --record 2 exit %d: %s %s", code, out, stderr)
	}
	// The proof of record 2 handed over for record 3: exit 1.
	if code, _, stderr := run(t, "", "audit", "verify", "--proof", proof, "--record", "3", "--key", pub); code != ExitViolation || !strings.Contains(stderr, "the proof is for record 2, not record 3") {
		t.Fatalf("verify --proof --record 3 exit %d: %s", code, stderr)
	}
	cons := filepath.Join(dir, "consistency.json")
	if code, _, stderr := run(t, "", "audit", "prove", log, "--checkpoint", older, "-o", cons); code != ExitOK {
		t.Fatalf("prove --checkpoint exit %d: %s", code, stderr)
	}
	if code, out, stderr := run(t, "", "audit", "verify", "--proof", cons, "--key", pub); code != ExitOK || !strings.Contains(out, "extends the older one") {
		t.Fatalf("verify consistency proof exit %d: %s %s", code, out, stderr)
	}

	// Tamper with one record in a rotated file: exit 1, naming it.
	segs, _ := filepath.Glob(log + ".0*")
	if len(segs) == 0 {
		t.Fatal("--audit-max-size 4Ki did not rotate")
	}
	b, _ := os.ReadFile(segs[0])
	lines := strings.SplitAfter(string(b), "\n")
	lines[1] = strings.Replace(lines[1], `"source":"eval"`, `"source":"evil"`, 1)
	if err := os.WriteFile(segs[0], []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, "", "audit", "verify", "--key", pub, log)
	if code != ExitViolation || !strings.Contains(stderr, "record 1 (") || !strings.Contains(stderr, "line 2") {
		t.Errorf("verify a tampered log: exit %d %s", code, stderr)
	}
	t.Log(stderr)
	if code, _, stderr := run(t, "", "audit", "prove", log, "--record", "1"); code != ExitViolation {
		t.Errorf("prove a tampered record: exit %d %s", code, stderr)
	}
}

func TestAuditCommandErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing log", []string{"audit", "verify", filepath.Join(dir, "none.jsonl")}, "no such file"},
		{"missing key", []string{"audit", "verify", "--key", filepath.Join(dir, "none.pub"), "x"}, "audit key"},
		{"missing proof", []string{"audit", "verify", "--proof", filepath.Join(dir, "none.json")}, "no such file"},
		{"proof and log", []string{"audit", "verify", "--proof", "p", "log"}, "unknown command"},
		{"record without proof", []string{"audit", "verify", "--record", "2", "log"}, "--record goes with --proof"},
		{"prove without a choice", []string{"audit", "prove", "log"}, "exactly one of --record or --checkpoint"},
		{"bad record number", []string{"audit", "prove", "log", "--record", "-3"}, "want a record number"},
		{"key without log", []string{"eval", "--charter", "../../policies/anti-delos.yaml", "--audit-sync", "../../examples/manifests/"}, "need --audit-log"},
		{"bad max size", []string{"eval", "--charter", "../../policies/anti-delos.yaml", "--audit-log", filepath.Join(dir, "a"), "--audit-max-size", "lots", "../../examples/manifests/"}, "want a size"},
		{"negative sync interval", []string{"eval", "--charter", "../../policies/anti-delos.yaml", "--audit-log", filepath.Join(dir, "b"), "--audit-sync", "--audit-sync-interval", "-1ms", "../../examples/manifests/"}, "want 0 or more"},
		{"explain with an audit log", []string{"eval", "--charter", "../../policies/anti-delos.yaml", "--explain", "--audit-log", filepath.Join(dir, "c"), "../../examples/manifests/"}, "--explain records nothing"},
		{"stdout with key", []string{"eval", "--charter", "../../policies/anti-delos.yaml", "--audit-log", "-", "--audit-key", "k", "../../examples/manifests/"}, "need a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, "", tc.args...)
			if code != ExitBadInput || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
		})
	}
}
