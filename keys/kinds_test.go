package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkix(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PUBLIC KEY", der)
}

func writeKey(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A public key file holding an RSA or P-384 key loads (a checkpoint
// verifier can use it) and says what it is; bundles refuses it for ES256
// with that name (see bundles' TestVerifyWithNonP256Key).
func TestLoadPublicOtherKinds(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pub  any
		want string
	}{
		{"RSA", &rsaKey.PublicKey, "RSA 2048-bit"},
		{"P-384", &p384.PublicKey, "ECDSA P-384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := LoadPublic(writeKey(t, "k.pub", pkix(t, tc.pub)))
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := v.PublicKey()
			if got := Describe(pub); got != tc.want || IsP256(pub) {
				t.Errorf("Describe = %q, IsP256 %v; want %q, false", got, IsP256(pub), tc.want)
			}
		})
	}
	pair, _ := Generate(nil)
	v, _ := ParsePublic(pair.Public)
	pub, _ := v.PublicKey()
	if got := Describe(pub); got != "ECDSA P-256" {
		t.Errorf("Describe(cosign key) = %q", got)
	}
}

func TestLoadPublicRefusesWeakRSA(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadPublic(writeKey(t, "weak.pub", pkix(t, &k.PublicKey)))
	if !errors.Is(err, ErrNotAKey) || !strings.Contains(err.Error(), "rsa key size 1024 is not supported") {
		t.Fatalf("error %v, want a refusal of the 1024-bit key", err)
	}
}

// The private key where the public key belongs: encrypted (cosign's .key)
// or not (openssl's), the message says which file is wanted.
func TestLoadPublicGivenAPrivateKey(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, _ := x509.MarshalECPrivateKey(ec)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)
	for _, tc := range []struct {
		name string
		key  []byte
		msg  string
	}{
		{"cosign .key", testPair.Private, "this is a private key; verification needs the public key (the .pub file)"},
		{"SEC 1", pemOf(t, "EC PRIVATE KEY", sec1), `this is an unencrypted private key (PEM block "EC PRIVATE KEY"): keep it secret`},
		{"PKCS #8", pemOf(t, "PRIVATE KEY", pkcs8), `this is an unencrypted private key (PEM block "PRIVATE KEY")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeKey(t, "release.pub", tc.key)
			_, err := LoadPublic(p)
			if !errors.Is(err, ErrNotAKey) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v, want ErrNotAKey naming %s and saying %q", err, p, tc.msg)
			}
		})
	}
}

func TestLoadPrivateGivenAnUnencryptedKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)
	asked := false
	_, err := LoadPrivate(writeKey(t, "k.key", pemOf(t, "PRIVATE KEY", pkcs8)), func() ([]byte, error) { asked = true; return nil, nil })
	if !errors.Is(err, ErrNotAKey) || !strings.Contains(err.Error(), "convert it with cosign import-key-pair") || asked {
		t.Fatalf("error %v (password asked: %v), want ErrNotAKey with the import hint, without asking", err, asked)
	}
}

func emptyPasswordEnv(k string) (string, bool) { return "", k == PasswordEnv }

// COSIGN_PASSWORD set to "" for a key that has a password: the error says
// the password was empty, not just "wrong".
func TestEmptyCosignPasswordForProtectedKey(t *testing.T) {
	_, err := LoadPrivate(writeKey(t, "k.key", testPair.Private), Password(emptyPasswordEnv, os.Stderr, false))
	if !errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), `the password given is empty (COSIGN_PASSWORD set to ""?), and this key has one`) {
		t.Fatalf("error %v, want ErrWrongPassword saying the password was empty", err)
	}
}

// A key made with an empty password (cosign allows it) loads with
// COSIGN_PASSWORD set to "", without a prompt.
func TestEmptyCosignPasswordForUnprotectedKey(t *testing.T) {
	pair, err := Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrivate(writeKey(t, "k.key", pair.Private), Password(emptyPasswordEnv, os.Stderr, false)); err != nil {
		t.Fatal(err)
	}
}
