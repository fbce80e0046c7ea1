package bundles

import (
	"crypto"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/util"
)

// SignaturesFile is OPA's signature file inside a bundle.
const SignaturesFile = ".signatures.json"

// hashAlgorithm is the file digest OPA writes by default.
const hashAlgorithm = bundle.SHA256

// fileDigest hashes one bundle file as OPA does when it signs or verifies
// (bundle.VerifyBundleFile): structured documents (data.json, .manifest,
// data.yaml) by their canonical JSON, every other file by its bytes.
func fileDigest(name string, data []byte, alg bundle.HashingAlgorithm) (string, error) {
	h, err := bundle.NewSignatureHasher(alg)
	if err != nil {
		return "", err
	}
	var value any = data
	if bundle.IsStructuredDoc(name) {
		var doc any
		if err := util.Unmarshal(data, &doc); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		value = doc
	}
	sum, err := h.HashFile(value)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return hex.EncodeToString(sum), nil
}

// fileInfos lists every file but the signature file, in bundle order.
func (f Files) fileInfos() ([]bundle.FileInfo, error) {
	var infos []bundle.FileInfo
	for _, n := range f.Names() {
		if n == SignaturesFile {
			continue
		}
		d, err := fileDigest(n, f[n], hashAlgorithm)
		if err != nil {
			return nil, err
		}
		infos = append(infos, bundle.NewFile(n, d, string(hashAlgorithm)))
	}
	return infos, nil
}

// jwtSigner is OPA's bundle.Signer over a crypto.Signer whose private key
// never leaves it (a decrypted cosign key, or a KMS one). The token has the
// shape OPA's DefaultSigner gives it: claims "files" and "keyid", header
// "kid", no time claims, so it depends only on the files and the key.
type jwtSigner struct {
	key crypto.Signer
}

var _ bundle.Signer = jwtSigner{}

func (s jwtSigner) GenerateSignedToken(files []bundle.FileInfo, sc *bundle.SigningConfig, keyID string) (string, error) {
	alg, ok := jwa.LookupSignatureAlgorithm(sc.Algorithm)
	if !ok {
		return "", fmt.Errorf("unknown signature algorithm %q", sc.Algorithm)
	}
	tok, err := jwt.NewBuilder().Claim("files", files).Claim("keyid", keyID).Build()
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, keyID); err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, s.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign JWT: %w", err)
	}
	return string(signed), nil
}

// signaturesJSON encodes OPA's .signatures.json for one token.
func signaturesJSON(token string) ([]byte, error) {
	out, err := json.MarshalIndent(bundle.SignaturesConfig{Signatures: []string{token}}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
