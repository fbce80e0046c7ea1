package keys

import (
	"errors"
	"testing"
)

// FuzzParsePrivate: any input either loads or fails with one of the
// package's four reasons; never a panic, never an unclassified error.
func FuzzParsePrivate(f *testing.F) {
	f.Add(testPair.Private, []byte(testPassword))
	f.Add(testPair.Private, []byte("wrong"))
	f.Add(editEnvelope(f, testPair.Private, setScrypt("N", 1<<30)), []byte(testPassword))
	f.Add(testPair.Public, []byte(""))
	f.Add([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\ne30=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"), []byte(""))
	f.Fuzz(func(t *testing.T, key, password []byte) {
		sv, err := ParsePrivate(key, password)
		if err == nil {
			if sv == nil {
				t.Fatal("nil signer without an error")
			}
			return
		}
		for _, want := range []error{ErrWrongPassword, ErrKDFParameters, ErrCorruptKey, ErrNotAKey} {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("unclassified error: %v", err)
	})
}

// FuzzParsePublic: any input loads or fails with ErrNotAKey.
func FuzzParsePublic(f *testing.F) {
	f.Add(testPair.Public)
	f.Add(testPair.Private)
	f.Fuzz(func(t *testing.T, key []byte) {
		if _, err := ParsePublic(key); err != nil && !errors.Is(err, ErrNotAKey) {
			t.Fatalf("unclassified error: %v", err)
		}
	})
}
