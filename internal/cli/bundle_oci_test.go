package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/oci"
	"github.com/charter-dev/charter/bundles/oci/ocitest"
	sigkeys "github.com/charter-dev/charter/keys"
	"github.com/sigstore/sigstore/pkg/signature"
)

// pushed is a signed bundle pushed with `charter bundle push` to a registry
// on loopback.
type pushed struct {
	reg                 *ocitest.Registry
	dir, bundle, pub    string
	ref, digestRef, out string
}

func pushSigned(t *testing.T) pushed {
	t.Helper()
	dir := t.TempDir()
	bundle, pub := signedBundle(t, dir)
	p := pushed{reg: ocitest.Start(t), dir: dir, bundle: bundle, pub: pub, out: filepath.Join(dir, "pulled.tar.gz")}
	p.ref = p.reg.Ref("charter/policy:v1")
	code, stdout, stderr := run(t, "", "bundle", "push", "--key", filepath.Join(dir, "k.key"), bundle, p.ref)
	if code != 0 || !strings.HasPrefix(stdout, "oci://"+p.reg.Host+"/charter/policy@sha256:") || !strings.Contains(stderr, "serial 7") {
		t.Fatalf("push: exit %d, %q %q", code, stdout, stderr)
	}
	p.digestRef = strings.TrimSpace(stdout)
	return p
}

// signer is the CLI test key (dir/k.key, password "pw").
func (p pushed) signer(t *testing.T) signature.SignerVerifier {
	t.Helper()
	sv, err := sigkeys.LoadPrivate(filepath.Join(p.dir, "k.key"), func() ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

// pullRefused runs pull and wants exit code, a message, and no file written.
func (p pushed) pullRefused(t *testing.T, ref string, code int, msg string, keys ...string) {
	t.Helper()
	if keys == nil {
		keys = []string{p.pub}
	}
	args := []string{"bundle", "pull", "-o", p.out, ref}
	for _, k := range keys {
		args = append(args, "--key", k)
	}
	got, stdout, stderr := run(t, "", args...)
	if got != code || !strings.Contains(stderr, msg) {
		t.Fatalf("pull: exit %d, %q %q; want exit %d saying %q", got, stdout, stderr, code, msg)
	}
	if _, err := os.Stat(p.out); !os.IsNotExist(err) {
		t.Errorf("a refused pull wrote %s (%v)", p.out, err)
	}
}

func (p pushed) pushRaw(t *testing.T, repoTag string, tgz []byte, signer signature.SignerVerifier) string {
	t.Helper()
	n, err := oci.ParseReference(p.reg.Ref(repoTag), oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oci.Push(context.Background(), n, tgz, signer, oci.Options{}); err != nil {
		t.Fatal(err)
	}
	return p.reg.Ref(repoTag)
}

func TestBundlePushPullRoundTrip(t *testing.T) {
	p := pushSigned(t)
	for _, ref := range []string{p.ref, p.digestRef} {
		code, stdout, stderr := run(t, "", "bundle", "pull", "--key", p.pub, "-o", p.out, ref)
		if code != 0 || !strings.Contains(stdout, "pulled "+p.digestRef+" to "+p.out) || !strings.Contains(stdout, "serial 7") {
			t.Fatalf("pull %s: exit %d, %q %q", ref, code, stdout, stderr)
		}
		want, _ := os.ReadFile(p.bundle)
		got, _ := os.ReadFile(p.out)
		if !bytes.Equal(got, want) {
			t.Fatal("the pulled bundle differs from the pushed one")
		}
		if code, _, stderr := run(t, "", "bundle", "verify", "--key", p.pub, p.out); code != 0 {
			t.Fatalf("verify of the pulled bundle: %s", stderr)
		}
		os.Remove(p.out)
	}
}

func TestBundlePullRefusesUnsignedManifest(t *testing.T) {
	p := pushSigned(t)
	tgz, _ := os.ReadFile(p.bundle)
	ref := p.pushRaw(t, "charter/unsigned:v1", tgz, nil)
	p.pullRefused(t, ref, ExitViolation, "has no cosign signature")
}

func TestBundlePullRefusesWrongKey(t *testing.T) {
	p := pushSigned(t)
	run(t, "", "keys", "generate", "--out", filepath.Join(p.dir, "other"))
	p.pullRefused(t, p.ref, ExitViolation, "a signature made by none of the trusted keys", filepath.Join(p.dir, "other.pub"))
}

func TestBundlePullRefusesTamperedLayer(t *testing.T) {
	p := pushSigned(t)
	tgz, _ := os.ReadFile(p.bundle)
	img, err := oci.Image(tgz)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	evil := bytes.Clone(tgz)
	evil[len(evil)-20] ^= 1
	p.reg.ServeBlob(ld.String(), evil)
	p.pullRefused(t, p.ref, ExitViolation, "the registry served a bundle layer that hashes to")
}

// The manifest signature is good (the key holder pushed it), but a module
// was changed after the bundle was signed: the bundle's own signature
// catches it.
func TestBundlePullRefusesTamperedBundle(t *testing.T) {
	p := pushSigned(t)
	files, _, err := bundles.ReadFiles(p.bundle)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range files.Names() {
		if strings.HasSuffix(n, ".rego") {
			files[n] = append(bytes.Clone(files[n]), "\n# tampered\n"...)
			break
		}
	}
	tgz, err := files.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	ref := p.pushRaw(t, "charter/tampered:v1", tgz, p.signer(t))
	p.pullRefused(t, ref, ExitViolation, "was modified after signing")
}

func TestBundlePullExpired(t *testing.T) {
	p := pushSigned(t)
	files, _, err := bundles.ReadFiles(p.bundle)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := bundles.Sign(files, p.signer(t), bundles.Release{Serial: 8, Expires: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := expired.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	ref := p.pushRaw(t, "charter/expired:v1", tgz, p.signer(t))
	p.pullRefused(t, ref, ExitViolation, "the bundle expired at 2020-01-01T00:00:00Z")
}

func TestBundlePushRefusesBundleNotSignedWithTheKey(t *testing.T) {
	p := pushSigned(t)
	unsigned := filepath.Join(p.dir, "u.tar.gz")
	if code, _, stderr := run(t, "", "build", "-o", unsigned, charterFile); code != 0 {
		t.Fatal(stderr)
	}
	code, _, stderr := run(t, "", "bundle", "push", "--key", filepath.Join(p.dir, "k.key"), unsigned, p.reg.Ref("charter/u:v1"))
	if code != ExitBadInput || !strings.Contains(stderr, "push only bundles signed with --key") || !strings.Contains(stderr, "unsigned") {
		t.Fatalf("push of an unsigned bundle: exit %d, %q", code, stderr)
	}
}

func TestBundlePullBadInput(t *testing.T) {
	p := pushSigned(t)
	p.pullRefused(t, "oci://"+p.reg.Host+"/charter/none:v1", ExitBadInput, "resolve")
	p.pullRefused(t, "oci://policy:v1", ExitBadInput, "name the registry host")
	p.pullRefused(t, p.ref, ExitBadInput, "give at least one --key", []string{}...)
}
