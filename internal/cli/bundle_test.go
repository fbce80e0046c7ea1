package cli

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
	sigkeys "github.com/charter-dev/charter/keys"
)

// signedBundle builds and signs the test charter into dir/b.tar.gz with a
// fresh key dir/k.key (password "pw").
func signedBundle(t *testing.T, dir string, extra ...string) (bundle, pub string) {
	t.Helper()
	t.Setenv(sigkeys.PasswordEnv, "pw")
	if code, _, stderr := run(t, "", "keys", "generate", "--out", filepath.Join(dir, "k")); code != 0 {
		t.Fatalf("keys generate: %s", stderr)
	}
	bundle = filepath.Join(dir, "b.tar.gz")
	args := append([]string{"build", "--sign", "--key", filepath.Join(dir, "k.key"), "--serial", "7", "-o", bundle}, extra...)
	if code, _, stderr := run(t, "", append(args, charterFile)...); code != 0 {
		t.Fatalf("build --sign: exit %d: %s", code, stderr)
	}
	return bundle, filepath.Join(dir, "k.pub")
}

func TestBuildSignThenVerify(t *testing.T) {
	dir := t.TempDir()
	bundle, pub := signedBundle(t, dir)
	code, stdout, stderr := run(t, "", "bundle", "verify", "--key", pub, bundle)
	if code != 0 || !strings.Contains(stdout, "verified (revision sha256:") || !strings.Contains(stdout, "serial 7") || !strings.Contains(stdout, "b.tar.gz.sigstore.json verified") {
		t.Fatalf("verify: exit %d, %q %q", code, stdout, stderr)
	}
	// The revision names the policy content: signing does not change it.
	unsigned := filepath.Join(dir, "u.tar.gz")
	if code, _, stderr := run(t, "", "build", "-o", unsigned, charterFile); code != 0 {
		t.Fatal(stderr)
	}
	b, err := bundles.ReadFile(unsigned)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, b.Revision()) {
		t.Errorf("signed revision differs from the unsigned build's %s: %s", b.Revision(), stdout)
	}
	if _, err := os.Stat(unsigned + bundles.SigstoreSuffix); !os.IsNotExist(err) {
		t.Errorf("an unsigned build wrote a sigstore bundle: %v", err)
	}
}

func TestBundleVerifyExitCodes(t *testing.T) {
	dir := t.TempDir()
	bundle, pub := signedBundle(t, dir)
	t.Setenv(sigkeys.PasswordEnv, "pw")
	run(t, "", "keys", "generate", "--out", filepath.Join(dir, "other"))
	unsigned := filepath.Join(dir, "u.tar.gz")
	run(t, "", "build", "-o", unsigned, charterFile)
	tampered := filepath.Join(dir, "t.tar.gz")
	files, _, err := bundles.ReadFiles(bundle)
	if err != nil {
		t.Fatal(err)
	}
	files["charter/extra.rego"] = []byte("package charter.extra\n")
	tgz, _ := files.TarGz()
	os.WriteFile(tampered, tgz, 0o644)
	// The sidecar of a good bundle next to an altered copy.
	sidecarOnly := filepath.Join(dir, "s.tar.gz")
	good, _ := os.ReadFile(bundle)
	os.WriteFile(sidecarOnly, good, 0o644)
	sb, _ := os.ReadFile(bundle + bundles.SigstoreSuffix)
	os.WriteFile(sidecarOnly+bundles.SigstoreSuffix, bytes.Replace(sb, []byte(`"signature":"`), []byte(`"signature":"AAAA`), 1), 0o644)

	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"wrong key", []string{"--key", filepath.Join(dir, "other.pub"), bundle}, 1, "which is not among the 1 trusted keys"},
		{"rotation: either key", []string{"--key", filepath.Join(dir, "other.pub"), "--key", pub, bundle}, 0, ""},
		{"unsigned", []string{"--key", pub, unsigned}, 1, "the bundle is unsigned"},
		{"file not covered", []string{"--key", pub, tampered}, 1, "charter/extra.rego is not covered by the signature"},
		{"sigstore bundle bad", []string{"--key", pub, sidecarOnly}, 1, "s.tar.gz.sigstore.json: bundle signature is invalid"},
		{"no key", []string{bundle}, 2, "give at least one --key"},
		{"private key as public", []string{"--key", filepath.Join(dir, "k.key"), bundle}, 2, "this is a private key"},
		{"missing bundle", []string{"--key", pub, filepath.Join(dir, "nope.tar.gz")}, 2, "no such file"},
		{"not a bundle", []string{"--key", pub, pub}, 2, "not a gzip archive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, "", append([]string{"bundle", "verify"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
}

func TestBundleVerifyExpired(t *testing.T) {
	dir := t.TempDir()
	// A past time is refused at signing, so the bundle expires in a second.
	bundle, pub := signedBundle(t, dir, "--expires", "1s")
	time.Sleep(2100 * time.Millisecond)
	code, _, stderr := run(t, "", "bundle", "verify", "--key", pub, bundle)
	if code != 1 || !strings.Contains(stderr, "the signature is valid, but the bundle expired at ") {
		t.Errorf("exit %d, %q", code, stderr)
	}
}

func TestBundleSignKeyErrors(t *testing.T) {
	dir := t.TempDir()
	bundle, _ := signedBundle(t, dir)
	before, _ := os.ReadFile(bundle)
	key := filepath.Join(dir, "k.key")
	// Raise scrypt's N in the key's envelope.
	data, _ := os.ReadFile(key)
	block, _ := pem.Decode(data)
	var env map[string]any
	json.Unmarshal(block.Bytes, &env)
	env["kdf"].(map[string]any)["params"].(map[string]any)["N"] = 1 << 20
	block.Bytes, _ = json.Marshal(env)
	altered := filepath.Join(dir, "altered.key")
	os.WriteFile(altered, pem.EncodeToMemory(block), 0o600)

	cases := []struct {
		name, password, key, stderr string
	}{
		{"wrong password", "nope", key, "wrong password"},
		{"tampered scrypt parameters", "pw", altered, "key-encryption (scrypt) parameters are not ones cosign writes"},
		{"public key", "pw", filepath.Join(dir, "k.pub"), "this is a public key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(sigkeys.PasswordEnv, tc.password)
			code, _, stderr := run(t, "", "bundle", "sign", "--key", tc.key, bundle)
			if code != 2 || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, %q; want 2 and %q", code, stderr, tc.stderr)
			}
			if after, _ := os.ReadFile(bundle); !bytes.Equal(before, after) {
				t.Error("a failed signing changed the bundle")
			}
		})
	}
}

func TestBundleSignDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(sigkeys.PasswordEnv, "pw")
	run(t, "", "keys", "generate", "--out", filepath.Join(dir, "k"))
	out := filepath.Join(dir, "bundle")
	if code, _, stderr := run(t, "", "build", "--format", "dir", "-o", out, charterFile); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := run(t, "", "bundle", "sign", "--key", filepath.Join(dir, "k.key"), "--serial", "3", out); code != 0 {
		t.Fatal(stderr)
	}
	code, stdout, stderr := run(t, "", "bundle", "verify", "--key", filepath.Join(dir, "k.pub"), out)
	if code != 0 || !strings.Contains(stdout, "serial 3") {
		t.Errorf("exit %d %q %q", code, stdout, stderr)
	}
	os.WriteFile(filepath.Join(out, "data.json"), []byte("{}"), 0o644)
	code, _, stderr = run(t, "", "bundle", "verify", "--key", filepath.Join(dir, "k.pub"), out)
	if code != 1 || !strings.Contains(stderr, "data.json was modified after signing") {
		t.Errorf("tampered directory: exit %d %q", code, stderr)
	}
}

func TestBuildSignFlagErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args   []string
		stderr string
	}{
		{[]string{"build", "--key", "x.key", "-o", filepath.Join(dir, "b.tar.gz"), charterFile}, "--key without --sign"},
		{[]string{"build", "--sign", "-o", filepath.Join(dir, "b.tar.gz"), charterFile}, "signing needs --key"},
		{[]string{"build", "--sign", "--key", "x.key", "-o", "-", charterFile}, "--sign needs -o FILE"},
		{[]string{"build", "--sign", "--key", "x.key", "--expires", "soon", "-o", filepath.Join(dir, "b.tar.gz"), charterFile}, `--expires "soon" is neither`},
		{[]string{"build", "--sign", "--key", "x.key", "--expires", "2001-01-01T00:00:00Z", "-o", filepath.Join(dir, "b.tar.gz"), charterFile}, `--expires 2001-01-01T00:00:00Z has already passed`},
	}
	for _, tc := range cases {
		code, _, stderr := run(t, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d %q, want 2 and %q", tc.args, code, stderr, tc.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "b.tar.gz")); !os.IsNotExist(err) {
		t.Error("a failed signed build wrote its output")
	}
}
