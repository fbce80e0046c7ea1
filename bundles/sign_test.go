package bundles

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/keys"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/sigstore/sigstore/pkg/signature"
)

const signCharter = "../compiler/testdata/golden/constructs.yaml"

func newSigner(t testing.TB) *signature.ECDSASignerVerifier {
	t.Helper()
	sv, _, err := signature.NewDefaultECDSASignerVerifier()
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

var testRelease = Release{Serial: 1700000000, Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}

func signed(t *testing.T, sv signature.SignerVerifier) Files {
	t.Helper()
	f, err := Sign(build(t, signCharter), sv, testRelease)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// wantFailure asserts err is a *VerificationFailure whose message says want.
func wantFailure(t *testing.T, err error, want string) {
	t.Helper()
	var vf *VerificationFailure
	if !errors.As(err, &vf) {
		t.Fatalf("error %v (%T), want a *VerificationFailure", err, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func keyID(t *testing.T, sv signature.SignerVerifier) string {
	t.Helper()
	pub, _ := sv.PublicKey()
	id, err := keys.ID(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// forgeToken signs claims with key under alg, with header kid, for the
// negative cases a well-behaved signer never produces.
func forgeToken(t *testing.T, claims map[string]any, alg jwa.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	b := jwt.NewBuilder()
	for k, v := range claims {
		b.Claim(k, v)
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	if kid != "" {
		hdr.Set(jws.KeyIDKey, kid)
	}
	out, err := jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func withToken(t *testing.T, f Files, tokens ...string) Files {
	t.Helper()
	out := Files{}
	for k, v := range f {
		out[k] = v
	}
	data, err := json.Marshal(bundle.SignaturesConfig{Signatures: tokens})
	if err != nil {
		t.Fatal(err)
	}
	out[SignaturesFile] = data
	return out
}

func fileClaims(t *testing.T, f Files) []bundle.FileInfo {
	t.Helper()
	infos, err := f.fileInfos()
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

func TestSignVerifyRoundTrip(t *testing.T) {
	sv := newSigner(t)
	unsigned := build(t, signCharter)
	f := signed(t, sv)
	v, err := Verify(f, sv)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := unsigned.Manifest()
	if v.Revision != before.Revision {
		t.Errorf("signing changed the revision: %s, was %s", v.Revision, before.Revision)
	}
	if v.Serial != testRelease.Serial || !v.Expires.Equal(testRelease.Expires) || v.KeyID != keyID(t, sv) {
		t.Errorf("verified %+v, want serial %d expires %v kid %s", v, testRelease.Serial, testRelease.Expires, keyID(t, sv))
	}
	if _, err := Parse(f); err != nil {
		t.Errorf("a signed bundle does not parse: %v", err)
	}
	if v.Expired(testRelease.Expires.Add(-time.Second)) || !v.Expired(testRelease.Expires) {
		t.Error("Expired is wrong around the expiry time")
	}
}

func TestSignIsDeterministicButTheSignature(t *testing.T) {
	sv := newSigner(t)
	a, b := signed(t, sv), signed(t, sv)
	for _, n := range a.Names() {
		if n != SignaturesFile && !bytes.Equal(a[n], b[n]) {
			t.Errorf("%s differs between two signings", n)
		}
	}
	part := func(f Files) string { // JWT header and payload, without the signature
		var sc bundle.SignaturesConfig
		json.Unmarshal(f[SignaturesFile], &sc)
		return sc.Signatures[0][:strings.LastIndex(sc.Signatures[0], ".")]
	}
	if part(a) != part(b) {
		t.Error("JWT header or claims differ between two signings")
	}
}

func TestSignWithoutExpiryAndResign(t *testing.T) {
	sv := newSigner(t)
	f, err := Sign(build(t, signCharter), sv, Release{Serial: 5})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(f[".manifest"], []byte("expires")) {
		t.Error("manifest has an expiry nobody asked for")
	}
	// Re-signing a signed bundle replaces serial and signature.
	again, err := Sign(signed(t, sv), sv, Release{Serial: 6})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(again, sv)
	if err != nil {
		t.Fatal(err)
	}
	if v.Serial != 6 || !v.Expires.IsZero() {
		t.Errorf("re-signed: serial %d expires %v, want 6 and none", v.Serial, v.Expires)
	}
}

func TestVerifyAcceptsAnyTrustedKey(t *testing.T) {
	old, next := newSigner(t), newSigner(t)
	f := signed(t, next)
	v, err := Verify(f, old, next)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyID != keyID(t, next) {
		t.Errorf("verified by %s, want %s", v.KeyID, keyID(t, next))
	}
}

func TestVerifyRejectsTamperedFile(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	f["data.json"] = bytes.Replace(f["data.json"], []byte(`"charter"`), []byte(`"charteR"`), 1)
	_, err := Verify(f, sv)
	wantFailure(t, err, "data.json was modified after signing")
}

func TestVerifyRejectsTamperedSerial(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	f[".manifest"] = bytes.Replace(f[".manifest"], []byte("1700000000"), []byte("1900000000"), 1)
	_, err := Verify(f, sv)
	wantFailure(t, err, ".manifest was modified after signing")
}

func TestVerifyRejectsFileNotCovered(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	f["charter/backdoor.rego"] = []byte("package charter\n")
	_, err := Verify(f, sv)
	wantFailure(t, err, "charter/backdoor.rego is not covered by the signature")
}

func TestVerifyRejectsListedFileMissing(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	var module string
	for _, n := range f.Names() {
		if strings.HasSuffix(n, ".rego") {
			module = n
			break
		}
	}
	delete(f, module)
	_, err := Verify(f, sv)
	wantFailure(t, err, module+" is listed in the signature but missing from the bundle")
}

func TestVerifyRejectsWrongKey(t *testing.T) {
	signer, trusted := newSigner(t), newSigner(t)
	f := signed(t, signer)
	_, err := Verify(f, trusted)
	wantFailure(t, err, "signed by key "+keyID(t, signer)+", which is not among the 1 trusted keys")
}

func TestVerifyRejectsMoreThanOneSignature(t *testing.T) {
	a, b := newSigner(t), newSigner(t)
	fa, fb := signed(t, a), signed(t, b)
	var sa, sb bundle.SignaturesConfig
	json.Unmarshal(fa[SignaturesFile], &sa)
	json.Unmarshal(fb[SignaturesFile], &sb)
	_, err := Verify(withToken(t, fa, sa.Signatures[0], sb.Signatures[0]), a, b)
	wantFailure(t, err, "holds 2 signatures; exactly one is allowed")
}

func TestVerifyRejectsNoSignature(t *testing.T) {
	sv := newSigner(t)
	_, err := Verify(withToken(t, signed(t, sv)), sv)
	wantFailure(t, err, "holds no signature")
}

func TestVerifyRejectsUnsignedBundle(t *testing.T) {
	sv := newSigner(t)
	_, err := Verify(build(t, signCharter), sv)
	wantFailure(t, err, "the bundle is unsigned (no .signatures.json), but a verification key is configured")
}

// Algorithm confusion: an HMAC token keyed with the public key's bytes.
func TestVerifyRejectsAlgorithmDisagreeingWithKey(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	kid := keyID(t, sv)
	pub, _ := sv.PublicKey()
	pem, _ := keys.ID(pub)
	tok := forgeToken(t, map[string]any{"files": fileClaims(t, f), "keyid": kid}, jwa.HS256(), []byte(pem), kid)
	_, err := Verify(withToken(t, f, tok), sv)
	wantFailure(t, err, `JWT algorithm "HS256" disagrees with the key: an ECDSA P-256 key signs ES256`)
}

// The kid names a trusted key, but another key made the signature.
func TestVerifyRejectsKeyIDDisagreeingWithKey(t *testing.T) {
	trusted, attacker := newSigner(t), newSigner(t)
	f := signed(t, trusted)
	kid := keyID(t, trusted)
	tok := forgeToken(t, map[string]any{"files": fileClaims(t, f), "keyid": kid}, jwa.ES256(), attacker, kid)
	_, err := Verify(withToken(t, f, tok), trusted)
	wantFailure(t, err, "the JWT signature does not verify with key "+kid+", which its kid names")
}

func TestVerifyRejectsKeyIDClaimDisagreeingWithHeader(t *testing.T) {
	sv, other := newSigner(t), newSigner(t)
	f := signed(t, sv)
	tok := forgeToken(t, map[string]any{"files": fileClaims(t, f), "keyid": keyID(t, other)}, jwa.ES256(), sv, keyID(t, sv))
	_, err := Verify(withToken(t, f, tok), sv)
	wantFailure(t, err, "JWT keyid claim")
}

// OPA itself falls back to the keyid claim when the header has no kid
// (opa#8531 territory); charter requires the header to name the key.
func TestVerifyRejectsMissingKeyID(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	tok := forgeToken(t, map[string]any{"files": fileClaims(t, f)}, jwa.ES256(), sv, "")
	_, err := Verify(withToken(t, f, tok), sv)
	wantFailure(t, err, "JWT header has no kid")
}

func TestVerifyRejectsFileListedTwice(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	infos := fileClaims(t, f)
	infos = append(infos, infos[0])
	tok := forgeToken(t, map[string]any{"files": infos, "keyid": keyID(t, sv)}, jwa.ES256(), sv, keyID(t, sv))
	_, err := Verify(withToken(t, f, tok), sv)
	wantFailure(t, err, "the signature lists .manifest twice")
}

func TestVerifyRejectsSignedManifestWithoutSerial(t *testing.T) {
	sv := newSigner(t)
	f := build(t, signCharter) // manifest without metadata.serial
	tok := forgeToken(t, map[string]any{"files": fileClaims(t, f), "keyid": keyID(t, sv)}, jwa.ES256(), sv, keyID(t, sv))
	_, err := Verify(withToken(t, f, tok), sv)
	wantFailure(t, err, "has no metadata.serial")
}

func TestVerifyRejectsVerifierPlugin(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	f[SignaturesFile] = []byte(`{"signatures":["a.b.c"],"plugin":"mine"}`)
	_, err := Verify(f, sv)
	wantFailure(t, err, `names verifier plugin "mine"`)
}

func TestVerifyWithoutKeyCouldNotCheck(t *testing.T) {
	_, err := Verify(signed(t, newSigner(t)))
	if err == nil || IsVerificationFailure(err) {
		t.Fatalf("error %v: want a could-not-check error, not a verification failure", err)
	}
}

func TestSigstoreBundleRoundTrip(t *testing.T) {
	sv := newSigner(t)
	artifact, err := signed(t, sv).TarGz()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := SigstoreBundle(artifact, sv)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(sb, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["mediaType"] != "application/vnd.dev.sigstore.bundle.v0.3+json" || doc["messageSignature"] == nil {
		t.Errorf("not a v0.3 message-signature bundle: %s", sb)
	}
	if err := VerifySigstoreBundle(artifact, sb, newSigner(t), sv); err != nil {
		t.Errorf("does not verify: %v", err)
	}
	tampered := append(bytes.Clone(artifact), 0)
	if err := VerifySigstoreBundle(tampered, sb, sv); !IsVerificationFailure(err) {
		t.Errorf("tampered artifact: %v, want a verification failure", err)
	}
	if err := VerifySigstoreBundle(artifact, sb, newSigner(t)); !IsVerificationFailure(err) {
		t.Errorf("wrong key: %v, want a verification failure", err)
	}
	if err := VerifySigstoreBundle(artifact, []byte("{"), sv); !IsVerificationFailure(err) {
		t.Errorf("malformed bundle: %v, want a verification failure", err)
	}
}

func TestVerifyRejectsDataAfterSignedJSON(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	f["data.json"] = append(bytes.Clone(f["data.json"]), []byte(`{"charter":{"info":{}}}`)...)
	_, err := Verify(f, sv)
	wantFailure(t, err, "data.json has data after its JSON document")
}

// Reformatted JSON has the same OPA digest; the signed revision still
// binds the exact bytes.
func TestVerifyRejectsReformattedFile(t *testing.T) {
	sv := newSigner(t)
	f := signed(t, sv)
	var doc any
	json.Unmarshal(f["data.json"], &doc)
	f["data.json"], _ = json.Marshal(doc)
	_, err := Verify(f, sv)
	wantFailure(t, err, "the files do not match the signed revision")
}
