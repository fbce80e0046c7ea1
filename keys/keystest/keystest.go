// Package keystest gives the tests of other packages cosign-format signing
// keys without files or passwords.
package keystest

import (
	"sync"
	"testing"

	"github.com/charter-dev/charter/keys"
	"github.com/sigstore/sigstore/pkg/signature"
)

var shared = sync.OnceValues(generate)

// Shared is one signer for every test in the binary: loading a cosign key is
// deliberately slow (scrypt), and most tests need just some trusted key.
func Shared(t testing.TB) signature.SignerVerifier {
	t.Helper()
	sv, err := shared()
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

// New is a fresh signer, for a key nobody trusts.
func New(t testing.TB) signature.SignerVerifier {
	t.Helper()
	sv, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

// generate makes a key pair as `charter keys generate` does (empty password)
// and loads its private key.
func generate() (signature.SignerVerifier, error) {
	pair, err := keys.Generate(nil)
	if err != nil {
		return nil, err
	}
	return keys.ParsePrivate(pair.Private, []byte{})
}
