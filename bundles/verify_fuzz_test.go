package bundles

import (
	"testing"
)

// FuzzVerify: whatever .signatures.json and .manifest a bundle carries,
// Verify with a good key never panics and never accepts a manifest other
// than the signed one, and every rejection says the signature is bad.
func FuzzVerify(f *testing.F) {
	sv := newSigner(f)
	good, err := Sign(buildTB(f, signCharter), sv, testRelease)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[SignaturesFile], good[".manifest"])
	f.Add([]byte(`{"signatures":[]}`), good[".manifest"])
	f.Add([]byte(`{"signatures":["x.y.z","a"]}`), good[".manifest"])
	f.Add([]byte(`{"signatures":["eyJhbGciOiJub25lIn0.e30."]}`), good[".manifest"])
	f.Add(good[SignaturesFile], []byte(`{"revision":"x","metadata":{"serial":9}}`))
	f.Add(good[SignaturesFile], append([]byte(`{"revision":"x",`), good[".manifest"][1:]...))
	f.Add(append([]byte(`{"signatures":["x.y.z"],`), good[SignaturesFile][1:]...), good[".manifest"])
	f.Fuzz(func(t *testing.T, sigs, manifest []byte) {
		files := Files{}
		for k, v := range good {
			files[k] = v
		}
		files[SignaturesFile] = sigs
		files[".manifest"] = manifest
		v, err := Verify(files, sv)
		if err != nil {
			if !IsVerificationFailure(err) {
				t.Fatalf("a bad bundle gave a could-not-check error: %v", err)
			}
			return
		}
		if v.Serial != testRelease.Serial {
			t.Fatalf("accepted a manifest whose serial %d was not signed", v.Serial)
		}
	})
}
