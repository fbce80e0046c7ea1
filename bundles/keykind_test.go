package bundles

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
)

func otherKinds(t *testing.T) map[string]signature.SignerVerifier {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]signature.SignerVerifier{}
	for name, k := range map[string]crypto.PrivateKey{"RSA 2048-bit": rsaKey, "ECDSA P-384": p384} {
		sv, err := signature.LoadDefaultSignerVerifier(k)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = sv
	}
	return out
}

// An RSA or P-384 verification key cannot check ES256: "could not check"
// (exit 2), naming the kind of key given.
func TestVerifyWithNonP256Key(t *testing.T) {
	f := signed(t, newSigner(t))
	for kind, sv := range otherKinds(t) {
		t.Run(kind, func(t *testing.T) {
			_, err := Verify(f, sv)
			if err == nil || IsVerificationFailure(err) {
				t.Fatalf("error %v: want a could-not-check error", err)
			}
			if want := "the verification key is an " + kind + " key, which cannot check ES256"; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
}

func TestSignWithNonP256Key(t *testing.T) {
	f := build(t, signCharter)
	for kind, sv := range otherKinds(t) {
		t.Run(kind, func(t *testing.T) {
			_, err := Sign(f, sv, testRelease)
			if want := "needs an ECDSA P-256 key; this is an " + kind + " key"; err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Sign error %v, want %q", err, want)
			}
			_, err = SigstoreBundle([]byte("artifact"), sv)
			if want := "this is an " + kind + " key"; err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("SigstoreBundle error %v, want %q", err, want)
			}
		})
	}
}
