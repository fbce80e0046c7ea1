package bundles

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/charter-dev/charter/keys"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
	"google.golang.org/protobuf/encoding/protojson"
)

// SigstoreSuffix names the sigstore bundle written beside a signed tarball.
const SigstoreSuffix = ".sigstore.json"

// SigstoreBundle signs artifact (a bundle tarball's bytes) the way `cosign
// sign-blob --key K --bundle OUT --tlog-upload=false` does: a sigstore
// bundle v0.3 with a messageSignature over the artifact's SHA-256 and the
// key's hint as verification material, built by sigstore-go.
func SigstoreBundle(artifact []byte, signer signature.SignerVerifier) ([]byte, error) {
	kp, err := newKeypair(signer)
	if err != nil {
		return nil, err
	}
	pb, err := sign.Bundle(&sign.PlainData{Data: artifact}, kp, sign.BundleOptions{})
	if err != nil {
		return nil, fmt.Errorf("sigstore bundle: %w", err)
	}
	out, err := protojson.Marshal(pb)
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// VerifySigstoreBundle checks a sigstore bundle over artifact against the
// trusted keys (any one may have signed), offline: no transparency log, no
// timestamps, as `cosign verify-blob --insecure-ignore-tlog=true`. A bundle
// or signature that does not check out is a *VerificationFailure.
func VerifySigstoreBundle(artifact, bundleJSON []byte, trusted ...signature.Verifier) error {
	if len(trusted) == 0 {
		return errors.New("no verification key")
	}
	var b sgbundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return fail("sigstore bundle is malformed: %v", err)
	}
	var errs []error
	for _, key := range trusted {
		material := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(key, timeZero, timeZero), nil
		})
		v, err := verify.NewVerifier(material, verify.WithNoObserverTimestamps())
		if err != nil {
			return err
		}
		_, err = v.Verify(&b, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), verify.WithKey()))
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return fail("sigstore bundle does not verify with any of the %d trusted keys: %v", len(trusted), errors.Join(errs...))
}

// keypair adapts a sigstore SignerVerifier to sigstore-go's sign.Keypair,
// exactly as cosign's internal/key.SignerVerifierKeypair does (same hint:
// base64 of the SHA-256 of the DER public key).
type keypair struct {
	sv   signature.SignerVerifier
	hint []byte
	alg  signature.AlgorithmDetails
}

func newKeypair(sv signature.SignerVerifier) (*keypair, error) {
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, err
	}
	if !keys.IsP256(pub) {
		return nil, fmt.Errorf("charter signs with ECDSA P-256 keys; this is an %s key", keys.Describe(pub))
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	alg, err := signature.GetAlgorithmDetails(protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256)
	if err != nil {
		return nil, err
	}
	return &keypair{sv: sv, hint: []byte(base64.StdEncoding.EncodeToString(sum[:])), alg: alg}, nil
}

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm { return k.alg.GetProtoHashType() }
func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.alg.GetSignatureAlgorithm()
}
func (k *keypair) GetHint() []byte         { return k.hint }
func (k *keypair) GetKeyAlgorithm() string { return "ECDSA" }
func (k *keypair) GetPublicKey() crypto.PublicKey {
	pub, _ := k.sv.PublicKey()
	return pub
}
func (k *keypair) GetPublicKeyPem() (string, error) {
	pub, err := k.sv.PublicKey()
	if err != nil {
		return "", err
	}
	p, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	return string(p), err
}

func (k *keypair) SignData(ctx context.Context, data []byte) ([]byte, []byte, error) {
	h := k.alg.GetHashType().New()
	h.Write(data)
	digest := h.Sum(nil)
	sig, err := k.sv.SignMessage(bytes.NewReader(data), options.WithContext(ctx), options.WithDigest(digest))
	if err != nil {
		return nil, nil, err
	}
	return sig, digest, nil
}

// timeZero leaves a trusted key without a validity window, as cosign does for --key.
var timeZero time.Time
