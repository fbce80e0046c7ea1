package bundles

import (
	"bytes"
	"maps"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/sigstore/sigstore/pkg/signature"
)

// sameOPADigest asserts OPA's signature digest cannot tell a from b: the
// case is a real hole in value-based signing, not a change the digests
// would catch anyway.
func sameOPADigest(t *testing.T, name string, a, b []byte) {
	t.Helper()
	da, err := fileDigest(name, a, bundle.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	db, err := fileDigest(name, b, bundle.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if da != db {
		t.Fatalf("test setup: the two %s have different OPA digests", name)
	}
}

// manifestWith returns the signed manifest with prefix inserted right after
// its opening brace.
func manifestWith(t *testing.T, f Files, prefix string) []byte {
	t.Helper()
	m := bytes.TrimSpace(f[".manifest"])
	if !bytes.HasPrefix(m, []byte("{")) {
		t.Fatalf("manifest does not start with {: %s", m)
	}
	return append([]byte("{"+prefix), m[1:]...)
}

// The known hole: a duplicate "revision" parses, in encoding/json and so in
// OPA, to the last value, which is the signed one; a first-wins reader sees
// the other. OPA's digest is the same.
func TestVerifyRejectsManifestDuplicateRevision(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	orig := f[".manifest"]
	f[".manifest"] = manifestWith(t, f, `"revision":"sha256:other",`)
	sameOPADigest(t, ".manifest", orig, f[".manifest"])
	_, err := Verify(f, sv)
	wantFailure(t, err, `.manifest has the key "revision" twice at the top level, so readers may disagree on what was signed`)
}

func TestVerifyRejectsManifestDuplicateNestedKey(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	orig := f[".manifest"]
	f[".manifest"] = bytes.Replace(orig, []byte(`"metadata": {`), []byte(`"metadata": {"serial": 1,`), 1)
	sameOPADigest(t, ".manifest", orig, f[".manifest"])
	_, err := Verify(f, sv)
	wantFailure(t, err, `.manifest has the key "serial" twice in "metadata"`)
}

// OPA strips a UTF-8 byte-order mark before hashing; encoding/json refuses it.
func TestVerifyRejectsManifestByteOrderMark(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	orig := f[".manifest"]
	f[".manifest"] = append([]byte("\uFEFF"), orig...)
	sameOPADigest(t, ".manifest", orig, f[".manifest"])
	_, err := Verify(f, sv)
	wantFailure(t, err, ".manifest starts with a byte-order mark")
}

func TestVerifyRejectsManifestTrailingData(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	f[".manifest"] = append(bytes.Clone(f[".manifest"]), `{"revision":"sha256:other"}`...)
	_, err := Verify(f, sv)
	wantFailure(t, err, ".manifest has data after its JSON document")
}

// A first-wins reader of .signatures.json would take the first token.
func TestVerifyRejectsSignaturesDuplicateKey(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	f[SignaturesFile] = append([]byte(`{"signatures":["forged.token.here"],`), bytes.TrimPrefix(bytes.TrimSpace(f[SignaturesFile]), []byte("{"))...)
	_, err := Verify(f, sv)
	wantFailure(t, err, `.signatures.json has the key "signatures" twice at the top level`)
}

func TestVerifyRejectsSignaturesTrailingData(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	f[SignaturesFile] = append(bytes.Clone(f[SignaturesFile]), `{"signatures":[]}`...)
	_, err := Verify(f, sv)
	wantFailure(t, err, ".signatures.json has data after its JSON document")
}

func TestVerifyRejectsDataDuplicateKey(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	orig := f["data.json"]
	f["data.json"] = append([]byte(`{"charter":{"info":{}},`), bytes.TrimPrefix(bytes.TrimSpace(orig), []byte("{"))...)
	sameOPADigest(t, "data.json", orig, f["data.json"])
	_, err := Verify(f, sv)
	wantFailure(t, err, `data.json has the key "charter" twice at the top level`)
}

// The cases below need a signer that signed something odd (opa build, a
// hand-made manifest): even then Verify refuses it, since a tamperer can
// swap it for a variant with the same digest.

// signWith signs f as it is, the way OPA's signer would (one ES256 JWT
// over OPA's digests, kid = the key's ID), without the checks Sign makes.
func signWith(t *testing.T, sv signature.SignerVerifier, f Files) Files {
	t.Helper()
	kid := keyID(t, sv)
	tok := forgeToken(t, map[string]any{"files": fileClaims(t, f), "keyid": kid}, jwa.ES256(), sv, kid)
	return withToken(t, f, tok)
}

func TestVerifyRejectsManifestKeysDifferingInCase(t *testing.T) {
	f := withManifest(t, build(t, signCharter), func(m string) string {
		return strings.Replace(m, "{", `{"Revision":"sha256:other",`, 1)
	})
	sv := newSigner(t)
	g := signWith(t, sv, f)
	_, err := Verify(g, sv)
	wantFailure(t, err, `.manifest has the keys "Revision" and "revision" at the top level, which differ only in case`)
}

func TestVerifyRejectsManifestInvalidUTF8(t *testing.T) {
	sv := newSigner(t)
	f := withManifest(t, build(t, signCharter), func(m string) string {
		return strings.Replace(m, "{", "{\"note\":\"\xff\",", 1)
	})
	g := signWith(t, sv, f)
	swapped := cloneFiles(g)
	swapped[".manifest"] = bytes.Replace(g[".manifest"], []byte("\xff"), []byte("\xfe"), 1)
	sameOPADigest(t, ".manifest", g[".manifest"], swapped[".manifest"])
	for _, files := range []Files{g, swapped} {
		_, err := Verify(files, sv)
		wantFailure(t, err, ".manifest is not valid UTF-8")
	}
}

func TestVerifyRejectsManifestUnpairedSurrogate(t *testing.T) {
	sv := newSigner(t)
	f := withManifest(t, build(t, signCharter), func(m string) string {
		return strings.Replace(m, "{", `{"note":"\ud800",`, 1)
	})
	g := signWith(t, sv, f)
	swapped := cloneFiles(g)
	swapped[".manifest"] = bytes.Replace(g[".manifest"], []byte(`\ud800`), []byte(`\udfff`), 1)
	sameOPADigest(t, ".manifest", g[".manifest"], swapped[".manifest"])
	for _, files := range []Files{g, swapped} {
		_, err := Verify(files, sv)
		wantFailure(t, err, `.manifest holds U+FFFD in the string at "note"`)
	}
}

func TestVerifyRejectsDataYAMLDuplicateKey(t *testing.T) {
	sv := newSigner(t)
	f := cloneFiles(build(t, signCharter))
	f["extra/data.yaml"] = []byte("a: 1\na: 2\n")
	f = withManifest(t, f, func(m string) string {
		old, _ := f.Manifest()
		return strings.Replace(m, old.Revision, f.digest(), 1)
	})
	g := signWith(t, sv, f)
	_, err := Verify(g, sv)
	wantFailure(t, err, "extra/data.yaml is not strict YAML")
}

// Sign refuses up front what Verify would refuse.
func TestSignRefusesAmbiguousData(t *testing.T) {
	f := cloneFiles(build(t, signCharter))
	f["data.json"] = append([]byte(`{"charter":{"info":{}},`), bytes.TrimPrefix(bytes.TrimSpace(f["data.json"]), []byte("{"))...)
	_, err := Sign(f, newSigner(t), testRelease)
	if err == nil || !strings.Contains(err.Error(), `data.json has the key "charter" twice`) {
		t.Fatalf("Sign = %v, want a refusal of the duplicate key", err)
	}
}

func cloneFiles(f Files) Files { return maps.Clone(f) }

// withManifest rewrites the manifest text: the metadata.serial a signed
// manifest needs is added first.
func withManifest(t *testing.T, f Files, edit func(string) string) Files {
	t.Helper()
	m, err := withRelease(f[".manifest"], Release{Serial: 3})
	if err != nil {
		t.Fatal(err)
	}
	out := cloneFiles(f)
	out[".manifest"] = []byte(edit(string(m)))
	return out
}
