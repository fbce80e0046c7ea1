package bundles

import (
	"crypto"
	"fmt"
	"maps"

	"github.com/charter-dev/charter/keys"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/sigstore/sigstore/pkg/signature"
)

// SigningAlgorithm is the JWT algorithm of charter's bundle signatures:
// ECDSA P-256 with SHA-256, the curve of cosign's keys.
const SigningAlgorithm = "ES256"

// Sign returns a signed copy of files: the manifest gets r's serial and
// expiry, and an OPA .signatures.json (one ES256 JWT over every file's OPA
// digest, kid = keys.ID of the public key) is added or replaced. The
// manifest revision, the content digest, does not change. Given the same
// files, key and r, the output differs only in the signature bytes.
func Sign(files Files, signer signature.SignerVerifier, r Release) (Files, error) {
	pub, err := signer.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("public key of the signing key: %w", err)
	}
	if !keys.IsP256(pub) {
		return nil, fmt.Errorf("OPA bundle signatures use %s, which needs an ECDSA P-256 key; this is an %s key", SigningAlgorithm, keys.Describe(pub))
	}
	cs, ok := signer.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing key %T cannot sign a JWT", signer)
	}
	kid, err := keys.ID(pub)
	if err != nil {
		return nil, err
	}
	manifest, ok := files[".manifest"]
	if !ok {
		return nil, fmt.Errorf("bundle has no .manifest")
	}
	out := maps.Clone(files)
	delete(out, SignaturesFile)
	if out[".manifest"], err = withRelease(manifest, r); err != nil {
		return nil, err
	}
	// Refuse now what Verify would refuse later.
	for _, n := range out.Names() {
		if err := checkStructured(n, out[n]); err != nil {
			return nil, fmt.Errorf("%s %v, so readers may disagree on what is signed", n, err)
		}
	}
	infos, err := out.fileInfos()
	if err != nil {
		return nil, err
	}
	token, err := jwtSigner{key: cs}.GenerateSignedToken(infos, bundle.NewSigningConfig("", SigningAlgorithm, ""), kid)
	if err != nil {
		return nil, err
	}
	if out[SignaturesFile], err = signaturesJSON(token); err != nil {
		return nil, err
	}
	return out, nil
}
