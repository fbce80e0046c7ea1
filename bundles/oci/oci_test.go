package oci

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/oci/ocitest"
	"github.com/charter-dev/charter/keys/keystest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/signature"
)

const testCharter = "../../engine/testdata/charter.yaml"

// signedTarGz is the test charter's bundle, signed with the shared key at serial.
func signedTarGz(t *testing.T, serial int64) []byte {
	t.Helper()
	b, _, err := bundles.FromCharters([]string{testCharter})
	if err != nil {
		t.Fatal(err)
	}
	files, err := bundles.Sign(b.Files, keystest.Shared(t), bundles.Release{Serial: serial})
	if err != nil {
		t.Fatal(err)
	}
	data, err := files.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func ref(t *testing.T, r *ocitest.Registry, repoTag string) name.Reference {
	t.Helper()
	n, err := ParseReference(r.Ref(repoTag), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func push(t *testing.T, n name.Reference, tgz []byte, signer signature.SignerVerifier) name.Digest {
	t.Helper()
	d, err := Push(context.Background(), n, tgz, signer, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func wantFailure(t *testing.T, err error, msg string) {
	t.Helper()
	if !bundles.IsVerificationFailure(err) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error = %v, want a verification failure saying %q", err, msg)
	}
}

func TestPushResolveVerifyFetch(t *testing.T) {
	reg := ocitest.Start(t)
	ctx := context.Background()
	n := ref(t, reg, "charter/policy:v1")
	tgz := signedTarGz(t, 5)
	d := push(t, n, tgz, keystest.Shared(t))
	got, err := Resolve(ctx, n, Options{})
	if err != nil || got != d {
		t.Fatalf("Resolve = %v, %v; want %v", got, err, d)
	}
	if err := VerifySignature(ctx, d, Options{}, keystest.New(t), keystest.Shared(t)); err != nil {
		t.Fatalf("VerifySignature with the signing key among the trusted: %v", err)
	}
	data, err := Fetch(ctx, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, tgz) {
		t.Fatal("the fetched layer differs from the pushed tarball")
	}
	// Pushing the same bytes again gives the same digest and replaces
	// (does not pile up) the key's own signature.
	if again := push(t, n, tgz, keystest.Shared(t)); again != d {
		t.Errorf("second push digest %v, want %v", again, d)
	}
	tag, _ := signatureTag(d)
	sigs, err := signaturesAt(ctx, tag, Options{})
	if err != nil || len(sigs) != 1 {
		t.Errorf("after two pushes: %d signatures, %v; want 1", len(sigs), err)
	}
}

// Another key co-signing keeps the first key's signature: either verifies.
func TestCosigningKeepsOtherKeysSignatures(t *testing.T) {
	reg := ocitest.Start(t)
	n := ref(t, reg, "charter/policy:v1")
	other := keystest.New(t)
	tgz := signedTarGz(t, 5)
	push(t, n, tgz, keystest.Shared(t))
	d := push(t, n, tgz, other)
	for _, k := range []signature.Verifier{keystest.Shared(t), other} {
		if err := VerifySignature(context.Background(), d, Options{}, k); err != nil {
			t.Errorf("VerifySignature: %v", err)
		}
	}
}

func TestVerifySignatureRefusesUnsigned(t *testing.T) {
	reg := ocitest.Start(t)
	d := push(t, ref(t, reg, "charter/policy:v1"), signedTarGz(t, 5), nil)
	wantFailure(t, VerifySignature(context.Background(), d, Options{}, keystest.Shared(t)), "has no cosign signature")
}

func TestVerifySignatureRefusesWrongKey(t *testing.T) {
	reg := ocitest.Start(t)
	d := push(t, ref(t, reg, "charter/policy:v1"), signedTarGz(t, 5), keystest.New(t))
	wantFailure(t, VerifySignature(context.Background(), d, Options{}, keystest.Shared(t)), "made by none of the trusted keys")
}

// A good signature of one manifest copied to another manifest's signature
// tag does not vouch for it.
func TestVerifySignatureRefusesSignatureOfAnotherManifest(t *testing.T) {
	reg := ocitest.Start(t)
	ctx := context.Background()
	good := push(t, ref(t, reg, "charter/policy:v1"), signedTarGz(t, 5), keystest.Shared(t))
	evil := push(t, ref(t, reg, "charter/policy:v2"), signedTarGz(t, 6), nil)
	from, _ := signatureTag(good)
	to, _ := signatureTag(evil)
	img, err := remote.Image(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(to, img); err != nil {
		t.Fatal(err)
	}
	wantFailure(t, VerifySignature(ctx, evil, Options{}, keystest.Shared(t)), "a signature copied from another manifest")
}

// The registry serves other bytes for the bundle layer under its digest.
func TestFetchRefusesTamperedLayer(t *testing.T) {
	reg := ocitest.Start(t)
	tgz := signedTarGz(t, 5)
	d := push(t, ref(t, reg, "charter/policy:v1"), tgz, keystest.Shared(t))
	img, err := Image(tgz)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	tampered := bytes.Clone(tgz)
	tampered[len(tampered)/2] ^= 0xff
	reg.ServeBlob(ld.String(), tampered)
	_, err = Fetch(context.Background(), d, Options{})
	wantFailure(t, err, "the registry served a bundle layer that hashes to sha256:")
	// Shorter bytes: the size the manifest names is not met.
	reg.ServeBlob(ld.String(), tgz[:len(tgz)/2])
	if _, err = Fetch(context.Background(), d, Options{}); err == nil || !strings.Contains(err.Error(), "layer") {
		t.Fatalf("Fetch of a cut layer = %v", err)
	}
}

func TestFetchRefusesNonBundleImages(t *testing.T) {
	reg := ocitest.Start(t)
	ctx := context.Background()
	n := ref(t, reg, "charter/app:v1")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(n, img); err != nil {
		t.Fatal(err)
	}
	d, err := Resolve(ctx, n, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(ctx, d, Options{}); err == nil || !strings.Contains(err.Error(), "not an OCI image manifest") {
		t.Fatalf("Fetch of a docker image = %v", err)
	}
}

func TestResolveMissingTag(t *testing.T) {
	reg := ocitest.Start(t)
	_, err := Resolve(context.Background(), ref(t, reg, "charter/policy:none"), Options{})
	if err == nil || !strings.Contains(err.Error(), "resolve") {
		t.Fatalf("Resolve of a missing tag = %v", err)
	}
}

func TestParseReference(t *testing.T) {
	for _, tc := range []struct{ ref, want, err string }{
		{"oci://ghcr.io/org/policy:v1", "ghcr.io/org/policy:v1", ""},
		{"oci://127.0.0.1:5000/policy:v1", "127.0.0.1:5000/policy:v1", ""},
		{"oci://localhost/policy:v1", "localhost/policy:v1", ""},
		{"oci://ghcr.io/org/policy@sha256:" + strings.Repeat("a", 64), "ghcr.io/org/policy@sha256:" + strings.Repeat("a", 64), ""},
		{"ghcr.io/org/policy:v1", "", "not an oci://"},
		{"oci://policy:v1", "", "name the registry host"},
		{"oci://org/policy:v1", "", "name the registry host"},
		{"oci://ghcr.io/org/policy", "", "tag"},
		{"oci://ghcr.io/Org/policy:v1", "", "repository"},
	} {
		n, err := ParseReference(tc.ref, Options{})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseReference(%q) = %v, %v; want an error saying %q", tc.ref, n, err, tc.err)
			}
			continue
		}
		if err != nil || n.String() != tc.want {
			t.Errorf("ParseReference(%q) = %v, %v; want %s", tc.ref, n, err, tc.want)
		}
	}
}
