package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/compiler"
	sigkeys "github.com/charter-dev/charter/keys"
	"github.com/charter-dev/charter/overrides"
)

// writeOverride writes an unsigned override for charter "shop".
func writeOverride(t *testing.T, dir string) string {
	t.Helper()
	nb := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	d := &overrides.Document{
		APIVersion: overrides.APIVersion, Kind: overrides.Kind, Metadata: overrides.Metadata{Name: "debug-shell"},
		Spec: overrides.Spec{
			Charter: "shop", Articles: []string{"AD-020"}, Scope: overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-*"},
			Reason: "incident 42", Requester: "sre@example.com", NotBefore: nb, Expires: nb.Add(30 * time.Minute),
		},
	}
	data, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "override.yaml")
	if err := os.WriteFile(p, data, 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCouncilSplitThenOverrideSign(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "custody")
	code, stdout, stderr := run(t, "", "council", "split", "--shares", "3", "--threshold", "2", "--out", out)
	if code != 0 {
		t.Fatalf("split: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "any 2 of 3 shares sign") {
		t.Fatalf("split output: %s", stdout)
	}
	pub := filepath.Join(out, "council.pub")
	share := func(i int) string { return filepath.Join(out, "council.share-"+string(rune('0'+i))+"-of-3.json") }
	if st, err := os.Stat(share(1)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("share file: %v %v", st, err)
	}
	// The same split again refuses to replace any file.
	if code, _, stderr := run(t, "", "council", "split", "--shares", "3", "--threshold", "2", "--out", out); code != ExitBadInput || !strings.Contains(stderr, "already exists") {
		t.Fatalf("second split into the same directory: exit %d: %s", code, stderr)
	}

	file := writeOverride(t, dir)
	code, stdout, stderr = run(t, "", "override", "sign", "--share", share(1), "--share", share(3), "--public-key", pub, file)
	if code != 0 {
		t.Fatalf("sign: exit %d: %s", code, stderr)
	}
	t.Log(strings.TrimSpace(stdout))
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o640 {
		t.Fatalf("sign changed the file mode to %v", st.Mode().Perm())
	}
	pubPEM, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sigkeys.ParsePublic(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := v.PublicKey()
	id, _ := sigkeys.ID(pk)
	ver, err := overrides.NewVerifier(compiler.Info{
		Name: "shop", Articles: map[string]compiler.ArticleInfo{"AD-020": {}},
		Council: &compiler.CouncilInfo{Threshold: 1, MaxLifetime: "24h", Keys: []compiler.CouncilKey{{Name: "council.pub", ID: id, PublicKey: string(pubPEM)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := readOverride(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ver.Verify(doc, time.Now()); err != nil {
		t.Fatalf("the override signed from shares does not verify: %v", err)
	}
	// Signing again with the same key is refused and leaves the file alone.
	before, _ := os.ReadFile(file)
	if code, _, stderr := run(t, "", "override", "sign", "--share", share(2), "--share", share(3), file); code != ExitBadInput || !strings.Contains(stderr, "already signed") {
		t.Fatalf("second signature by the same key: exit %d: %s", code, stderr)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Fatal("a refused sign changed the override file")
	}
}

func TestOverrideSignNamesTheBadShareFile(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, "", "council", "split", "--shares", "3", "--threshold", "2", "--out", dir); code != 0 {
		t.Fatalf("split: %s", stderr)
	}
	share := func(i int) string { return filepath.Join(dir, "council.share-"+string(rune('0'+i))+"-of-3.json") }
	data, _ := os.ReadFile(share(2))
	tampered := filepath.Join(dir, "tampered.json")
	os.WriteFile(tampered, []byte(strings.Replace(string(data), `"threshold": 2`, `"threshold": 3`, 1)), 0o600)
	file := writeOverride(t, dir)
	before, _ := os.ReadFile(file)
	for _, tc := range []struct {
		name   string
		shares []string
		want   string
	}{
		{"tampered", []string{share(1), tampered}, tampered + ": council share was altered after the split"},
		{"too few", []string{share(1)}, "needs 2 distinct shares, got 1"},
		{"same share twice", []string{share(1), share(1)}, "the same council share was given twice"},
		{"none", nil, "no --share given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"override", "sign"}
			for _, s := range tc.shares {
				args = append(args, "--share", s)
			}
			code, _, stderr := run(t, "", append(args, file)...)
			if code != ExitBadInput || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
			if after, _ := os.ReadFile(file); string(after) != string(before) {
				t.Fatal("a refused sign changed the override file")
			}
		})
	}
}

// TestOneOverrideCommand: override sign joins the override command that
// request/approve/verify/status live in; registering that command after
// addCouncilCommands in root.go would make two, and one would hide the other.
func TestOneOverrideCommand(t *testing.T) {
	root := NewRoot(Streams{In: strings.NewReader(""), Out: os.Stdout, Err: os.Stderr})
	var n int
	for _, c := range root.Commands() {
		if c.Name() == "override" {
			n++
			if sub, _, err := c.Find([]string{"sign"}); err != nil || sub.Name() != "sign" {
				t.Errorf("override has no sign subcommand: %v", err)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d commands named override; in root.go, call addCouncilCommands(root) after root.AddCommand(newOverrideCommand())", n)
	}
}
