package interop

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
)

// signingFixture makes a charter key pair and a signed anti-delos bundle
// (tarball + sigstore bundle, and a directory) in a fresh directory.
type signingFixture struct {
	dir, key, pub, tarball, sidecar, bundleDir string
}

func newSigningFixture(t *testing.T) signingFixture {
	t.Helper()
	bin := cli(t)
	t.Setenv("COSIGN_PASSWORD", "interop")
	dir := t.TempDir()
	f := signingFixture{
		dir:       dir,
		key:       filepath.Join(dir, "charter.key"),
		pub:       filepath.Join(dir, "charter.pub"),
		tarball:   filepath.Join(dir, "bundle.tar.gz"),
		bundleDir: filepath.Join(dir, "bundle"),
	}
	f.sidecar = f.tarball + bundles.SigstoreSuffix
	charter := filepath.Join(root, "policies", "anti-delos.yaml")
	must(t, bin, "keys", "generate", "--out", filepath.Join(dir, "charter"))
	must(t, bin, "build", "--sign", "--key", f.key, "-o", f.tarball, charter)
	must(t, bin, "build", "--sign", "--key", f.key, "--format", "dir", "-o", f.bundleDir, charter)
	return f
}

// tamperedCopy writes the bundle with one Rego module changed.
func tamperedCopy(t *testing.T, tarball string) string {
	t.Helper()
	files, _, err := bundles.ReadFiles(tarball)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range files.Names() {
		if strings.HasSuffix(n, ".rego") {
			files[n] = append(bytes.Clone(files[n]), []byte("\n# tampered\n")...)
			break
		}
	}
	data, err := files.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tampered.tar.gz")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCosignVerifiesCharterSignature: stock cosign verify-blob accepts the
// sigstore bundle charter writes beside a signed tarball, offline, and
// refuses it for a different tarball.
func TestCosignVerifiesCharterSignature(t *testing.T) {
	cosign := tool(t, "cosign")
	f := newSigningFixture(t)
	must(t, cosign, "verify-blob", "--key", f.pub, "--bundle", f.sidecar, "--insecure-ignore-tlog=true", f.tarball)
	tampered := tamperedCopy(t, f.tarball)
	if r := execute(t, nil, cosign, "verify-blob", "--key", f.pub, "--bundle", f.sidecar, "--insecure-ignore-tlog=true", tampered); r.code == 0 {
		t.Errorf("cosign verified the sigstore bundle over a tampered tarball:\n%s", r)
	}
}

// TestCharterVerifiesCosignSignature: a key pair from cosign generate-key-pair
// signs with charter, and charter verifies what cosign sign-blob produced.
func TestCharterVerifiesCosignSignature(t *testing.T) {
	cosign := tool(t, "cosign")
	bin := cli(t)
	t.Setenv("COSIGN_PASSWORD", "from-cosign")
	dir := t.TempDir()
	gen := exec.Command(cosign, "generate-key-pair")
	gen.Dir = dir
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	key, pub := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	tarball := filepath.Join(dir, "bundle.tar.gz")
	must(t, bin, "build", "-o", tarball, filepath.Join(root, "policies", "anti-delos.yaml"))
	// charter loads cosign's encrypted key and signs with it.
	must(t, bin, "bundle", "sign", "--key", key, tarball)
	// cosign signs the signed tarball; its sigstore bundle replaces charter's.
	must(t, cosign, "sign-blob", "--yes", "--key", key, "--bundle", tarball+bundles.SigstoreSuffix,
		"--use-signing-config=false", "--tlog-upload=false", tarball)
	out := must(t, bin, "bundle", "verify", "--key", pub, tarball)
	if !strings.Contains(string(out), "bundle.tar.gz.sigstore.json verified") {
		t.Errorf("charter did not check cosign's sigstore bundle: %s", out)
	}
	// cosign's bundle over another file is refused by charter (exit 1).
	other := filepath.Join(dir, "other.tar.gz")
	os.WriteFile(other, []byte("not the bundle"), 0o644)
	must(t, cosign, "sign-blob", "--yes", "--key", key, "--bundle", filepath.Join(dir, "other.json"),
		"--use-signing-config=false", "--tlog-upload=false", other)
	sb, _ := os.ReadFile(filepath.Join(dir, "other.json"))
	os.WriteFile(tarball+bundles.SigstoreSuffix, sb, 0o644)
	if r := execute(t, nil, bin, "bundle", "verify", "--key", pub, tarball); r.code != 1 {
		t.Errorf("charter accepted cosign's signature over another file:\n%s", r)
	}
}

// TestOPABuildVerifiesCharterSignature: opa build --verification-key checks
// the .signatures.json charter wrote on a tarball and refuses a tampered one.
// A directory bundle is not checked through opa build: OPA 1.22.3's directory
// loader names each file by the path it was given ("b/.manifest"), so no
// signature over bundle-relative names verifies there (see docs/signing.md).
func TestOPABuildVerifiesCharterSignature(t *testing.T) {
	opa := tool(t, "opa")
	f := newSigningFixture(t)
	must(t, opa, "build", "--bundle", f.tarball, "--verification-key", f.pub, "--signing-alg", "ES256",
		"-o", filepath.Join(t.TempDir(), "out.tar.gz"))
	r := execute(t, nil, opa, "build", "--bundle", tamperedCopy(t, f.tarball), "--verification-key", f.pub,
		"--signing-alg", "ES256", "-o", filepath.Join(t.TempDir(), "out.tar.gz"))
	if r.code == 0 || !strings.Contains(string(r.stdout)+string(r.stderr), "digest mismatch") {
		t.Errorf("opa build accepted a tampered bundle, or for another reason:\n%s", r)
	}
}

// TestOPARunVerifiesCharterSignature: opa run --server --verification-key
// activates the signed bundle and answers from it; a tampered bundle stops
// it at startup.
func TestOPARunVerifiesCharterSignature(t *testing.T) {
	opa := tool(t, "opa")
	f := newSigningFixture(t)
	base := startOPA(t, opa, f.tarball, "--verification-key", f.pub, "--signing-alg", "ES256")
	resp, err := httpClient.Get(base + "/v1/data/charter/info/name")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"anti-delos"`) {
		t.Fatalf("opa run does not answer from the signed bundle: %d %s", resp.StatusCode, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bad := exec.CommandContext(ctx, opa, "run", "--server", "--addr", "127.0.0.1:0", "--log-level", "error",
		"--bundle", tamperedCopy(t, f.tarball), "--verification-key", f.pub, "--signing-alg", "ES256")
	out, err := bad.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("opa run kept running on a tampered bundle:\n%s", out)
	}
	if err == nil || !strings.Contains(string(out), "digest mismatch") {
		t.Errorf("opa run did not refuse a tampered bundle for its digest (%v):\n%s", err, out)
	}
}
