package oci

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/keys"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	cosignoci "github.com/sigstore/cosign/v3/pkg/oci"
	"github.com/sigstore/cosign/v3/pkg/oci/empty"
	"github.com/sigstore/cosign/v3/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
	"github.com/sigstore/cosign/v3/pkg/oci/static"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// maxSignatures bounds how many signatures of one digest are looked at.
const maxSignatures = 64

// attachSignature signs the simple-signing payload of d (what `cosign sign
// --key` signs) and writes it to d's cosign signature tag, keeping the
// signatures there made by other keys.
func attachSignature(ctx context.Context, d name.Digest, signer signature.SignerVerifier, o Options) error {
	msg, err := payload.Cosign{Image: d}.MarshalJSON()
	if err != nil {
		return err
	}
	sig, err := signer.SignMessage(bytes.NewReader(msg))
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	ours, err := static.NewSignature(msg, base64.StdEncoding.EncodeToString(sig))
	if err != nil {
		return err
	}
	tag, err := signatureTag(d)
	if err != nil {
		return err
	}
	existing, err := signaturesAt(ctx, tag, o)
	if err != nil {
		return err
	}
	kept := []cosignoci.Signature{}
	for _, s := range existing {
		if signedBy(s, signer) == nil {
			continue // ours, replaced
		}
		kept = append(kept, s)
	}
	sigs, err := mutate.AppendSignatures(empty.Signatures(), false, append(kept, ours)...)
	if err != nil {
		return err
	}
	return remote.Write(tag, sigs, o.remote(ctx)...)
}

func signaturesAt(ctx context.Context, tag name.Tag, o Options) ([]cosignoci.Signature, error) {
	sigs, err := ociremote.Signatures(tag, ociremote.WithRemoteOptions(o.remote(ctx)...))
	if err != nil {
		return nil, fmt.Errorf("read signatures %s: %w", tag, err)
	}
	list, err := sigs.Get()
	if err != nil {
		return nil, fmt.Errorf("read signatures %s: %w", tag, err)
	}
	if len(list) > maxSignatures {
		return nil, fmt.Errorf("read signatures %s: %d signatures, more than the %d looked at", tag, len(list), maxSignatures)
	}
	return list, nil
}

// signedBy checks one cosign signature's bytes over its payload with key.
func signedBy(s cosignoci.Signature, key signature.Verifier) error {
	b64, err := s.Base64Signature()
	if err != nil {
		return err
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return fmt.Errorf("signature is not base64: %w", err)
	}
	msg, err := s.Payload()
	if err != nil {
		return err
	}
	return key.VerifySignature(bytes.NewReader(raw), bytes.NewReader(msg))
}

// VerifySignature checks that a cosign signature at d's signature tag was
// made by one of the trusted keys over a simple-signing payload naming d's
// digest, as `cosign verify --key` does (offline: no transparency log). A
// missing, foreign or mismatched signature is a *bundles.VerificationFailure;
// a registry that cannot be read is another error.
func VerifySignature(ctx context.Context, d name.Digest, o Options, trusted ...signature.Verifier) error {
	if len(trusted) == 0 {
		return errors.New("no verification key")
	}
	tag, err := signatureTag(d)
	if err != nil {
		return err
	}
	sigs, err := signaturesAt(ctx, tag, o)
	if err != nil {
		return err
	}
	if len(sigs) == 0 {
		return &bundles.VerificationFailure{Reason: fmt.Sprintf("%s has no cosign signature (nothing at %s): it was pushed unsigned", d, tag.TagStr())}
	}
	var problems []error
	for _, s := range sigs {
		key, err := anyKey(s, trusted)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if err := checkPayload(s, d); err != nil {
			problems = append(problems, fmt.Errorf("signed by %s, but %w", key, err))
			continue
		}
		return nil
	}
	return &bundles.VerificationFailure{Reason: fmt.Sprintf("no cosign signature of %s verifies with the %d trusted keys: %v", d, len(trusted), errors.Join(problems...))}
}

func anyKey(s cosignoci.Signature, trusted []signature.Verifier) (string, error) {
	for _, k := range trusted {
		if signedBy(s, k) == nil {
			pub, err := k.PublicKey()
			if err != nil {
				return "", err
			}
			return keyName(pub), nil
		}
	}
	return "", errors.New("a signature made by none of the trusted keys")
}

func keyName(pub crypto.PublicKey) string {
	id, err := keys.ID(pub)
	if err != nil {
		return keys.Describe(pub) + " key"
	}
	return "key " + id
}

// checkPayload: the signed payload is a cosign simple-signing document for
// exactly this manifest digest (a signature of another manifest copied to
// this digest's tag does not count).
func checkPayload(s cosignoci.Signature, d name.Digest) error {
	msg, err := s.Payload()
	if err != nil {
		return err
	}
	var p payload.SimpleContainerImage
	if err := json.Unmarshal(msg, &p); err != nil {
		return fmt.Errorf("its payload is not a cosign simple-signing document: %v", err)
	}
	if p.Critical.Type != payload.CosignSignatureType {
		return fmt.Errorf("its payload has type %q, not %q", p.Critical.Type, payload.CosignSignatureType)
	}
	if got := p.Critical.Image.DockerManifestDigest; got != d.DigestStr() {
		return fmt.Errorf("it signs manifest %s, not %s (a signature copied from another manifest)", got, d.DigestStr())
	}
	return nil
}

// signatureTag is cosign's tag for d's signatures: sha256-<hex>.sig.
func signatureTag(d name.Digest) (name.Tag, error) { return ociremote.SignatureTag(d) }
