package bundles

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charter-dev/charter/keys"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/sigstore/sigstore/pkg/signature"
)

// VerificationFailure says the signature is bad: the bundle is unsigned,
// altered, signed by an untrusted key, or its signature is malformed. Any
// other error from Verify means the check could not be made (no key, a key
// that cannot verify ES256). Enforcement points refuse the bundle either
// way; the distinction tells an attack from a misconfiguration (exit 1 vs 2).
type VerificationFailure struct {
	Reason string
}

func (e *VerificationFailure) Error() string { return "bundle signature is invalid: " + e.Reason }

func fail(format string, args ...any) error {
	return &VerificationFailure{Reason: fmt.Sprintf(format, args...)}
}

// IsVerificationFailure reports whether err says the signature is bad.
func IsVerificationFailure(err error) bool {
	var vf *VerificationFailure
	return errors.As(err, &vf)
}

// Verified is what a good signature vouches for.
type Verified struct {
	KeyID    string    // keys.ID of the key that signed
	Revision string    // the manifest revision (content digest)
	Serial   int64     // metadata.serial: refuse a bundle lower than the active one
	Expires  time.Time // metadata.expires; zero: never
}

// Expired reports whether the bundle's signed expiry has passed at now.
func (v *Verified) Expired(now time.Time) bool {
	return !v.Expires.IsZero() && !now.Before(v.Expires)
}

// Verify checks the bundle's .signatures.json against the trusted keys;
// any one of them may have signed (key rotation). Unlike OPA's own reader it
// is strict: exactly one JWT; alg ES256; a kid that names a trusted key
// (keys.ID) and agrees with the keyid claim; every file of the bundle listed
// once with a matching OPA digest, and every listed file present; every
// structured file parses one way in every reader (see checkStructured); and
// the signed manifest carries metadata.serial. It does not judge the expiry
// (see Verified.Expired) nor the serial: that is the caller's policy.
func Verify(files Files, trusted ...signature.Verifier) (*Verified, error) {
	byID, err := trustedKeys(trusted)
	if err != nil {
		return nil, err
	}
	raw, ok := files[SignaturesFile]
	if !ok {
		return nil, fail("the bundle is unsigned (no %s), but a verification key is configured", SignaturesFile)
	}
	if err := checkAllStructured(files); err != nil {
		return nil, err
	}
	token, err := singleToken(raw)
	if err != nil {
		return nil, err
	}
	kid, claims, err := verifyToken(token, byID)
	if err != nil {
		return nil, err
	}
	if err := checkFiles(files, claims.Files); err != nil {
		return nil, err
	}
	if err := checkRevision(files); err != nil {
		return nil, err
	}
	r, err := releaseOf(files[".manifest"])
	if err != nil {
		return nil, fail("%v", err)
	}
	m, err := files.Manifest()
	if err != nil {
		return nil, fail("%v", err)
	}
	return &Verified{KeyID: kid, Revision: m.Revision, Serial: r.Serial, Expires: r.Expires}, nil
}

// VerifyFiles is Verify with the keys as a slice: what a loader calls before
// it activates a bundle.
func VerifyFiles(files Files, trusted []signature.Verifier) (*Verified, error) {
	return Verify(files, trusted...)
}

func trustedKeys(trusted []signature.Verifier) (map[string]crypto.PublicKey, error) {
	if len(trusted) == 0 {
		return nil, errors.New("no verification key configured")
	}
	byID := map[string]crypto.PublicKey{}
	for _, v := range trusted {
		pub, err := v.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("verification key: %w", err)
		}
		if !keys.IsP256(pub) {
			return nil, fmt.Errorf("the verification key is an %s key, which cannot check %s bundle signatures: an ECDSA P-256 key (what cosign generate-key-pair and charter keys generate make) is needed", keys.Describe(pub), SigningAlgorithm)
		}
		id, err := keys.ID(pub)
		if err != nil {
			return nil, err
		}
		byID[id] = pub
	}
	return byID, nil
}

func singleToken(raw []byte) (string, error) {
	var sc struct {
		Signatures []string `json:"signatures"`
		Plugin     string   `json:"plugin"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return "", fail("%s is malformed: %v", SignaturesFile, err)
	}
	if sc.Plugin != "" {
		return "", fail("%s names verifier plugin %q; only OPA's default JWT signature is accepted", SignaturesFile, sc.Plugin)
	}
	switch n := len(sc.Signatures); {
	case n == 0:
		return "", fail("%s holds no signature", SignaturesFile)
	case n > 1:
		return "", fail("%s holds %d signatures; exactly one is allowed", SignaturesFile, n)
	}
	return sc.Signatures[0], nil
}

// verifyToken checks the JWT's header against the trusted keys, then its
// signature, then decodes its claims.
func verifyToken(token string, byID map[string]crypto.PublicKey) (string, *bundle.DecodedSignature, error) {
	msg, err := jws.Parse([]byte(token), jws.WithCompact())
	if err != nil {
		return "", nil, fail("the JWT in %s is malformed: %v", SignaturesFile, err)
	}
	if len(msg.Signatures()) != 1 {
		return "", nil, fail("the JWT in %s has %d signatures; exactly one is allowed", SignaturesFile, len(msg.Signatures()))
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	alg, _ := hdr.Algorithm()
	if alg.String() != SigningAlgorithm {
		return "", nil, fail("JWT algorithm %q disagrees with the key: an ECDSA P-256 key signs %s", alg.String(), SigningAlgorithm)
	}
	kid, ok := hdr.KeyID()
	if !ok || kid == "" {
		return "", nil, fail("JWT header has no kid; charter signatures name their key (%s)", exampleID(byID))
	}
	pub, trusted := byID[kid]
	if !trusted {
		return "", nil, fail("signed by key %s, which is not among the %d trusted keys (%s)", kid, len(byID), exampleID(byID))
	}
	payload, err := jws.Verify([]byte(token), jws.WithKey(jwa.ES256(), pub))
	if err != nil {
		return "", nil, fail("the JWT signature does not verify with key %s, which its kid names (signed by another key, or altered): %v", kid, err)
	}
	var claims bundle.DecodedSignature
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	if err := dec.Decode(&claims); err != nil {
		return "", nil, fail("JWT claims are malformed: %v", err)
	}
	if claims.KeyID != "" && claims.KeyID != kid {
		return "", nil, fail("JWT keyid claim %q disagrees with its header kid %q", claims.KeyID, kid)
	}
	if claims.Scope != "" {
		return "", nil, fail("JWT has scope %q; charter bundles are signed without a scope", claims.Scope)
	}
	return kid, &claims, nil
}

func exampleID(byID map[string]crypto.PublicKey) string {
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return strings.Join(ids, ", ")
}

// checkFiles: every bundle file listed exactly once with a matching digest,
// every listed file present.
func checkFiles(files Files, listed []bundle.FileInfo) error {
	seen := map[string]bool{}
	for _, fi := range listed {
		if seen[fi.Name] {
			return fail("the signature lists %s twice", fi.Name)
		}
		seen[fi.Name] = true
		data, ok := files[fi.Name]
		if !ok || fi.Name == SignaturesFile {
			return fail("%s is listed in the signature but missing from the bundle", fi.Name)
		}
		got, err := fileDigest(fi.Name, data, bundle.HashingAlgorithm(fi.Algorithm))
		if err != nil {
			return fail("%s cannot be hashed as signed (%s): %v", fi.Name, fi.Algorithm, err)
		}
		if got != fi.Hash {
			return fail("%s was modified after signing: its %s digest is %s, the signature says %s", fi.Name, fi.Algorithm, got, fi.Hash)
		}
	}
	for _, n := range files.Names() {
		if !seen[n] && n != SignaturesFile {
			return fail("%s is not covered by the signature (added after signing)", n)
		}
	}
	return nil
}

// checkRevision: a charter revision is the SHA-256 of every file's bytes, and
// it sits in the signed manifest, so it binds the exact bytes (OPA's digests
// of JSON files only bind their parsed values).
func checkRevision(files Files) error {
	m, err := files.Manifest()
	if err != nil {
		return fail("%v", err)
	}
	if !strings.HasPrefix(m.Revision, "sha256:") {
		return nil // not built by charter: OPA's digests are all there is
	}
	if got := files.digest(); got != m.Revision {
		return fail("the files do not match the signed revision %s (they hash to %s)", m.Revision, got)
	}
	return nil
}
