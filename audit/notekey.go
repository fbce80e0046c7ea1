package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/mod/sumdb/note"
)

// KeyName is the name in a checkpoint's signature line.
const KeyName = "charter-audit"

// keyAlgorithm is the algorithm byte of the key hash. The note format's
// own 0x01 is Ed25519 over the raw text; these signatures come from a
// sigstore signer (ECDSA P-256 with SHA-256 for cosign keys, DER encoded),
// so they get their own identifier.
const keyAlgorithm = 0x02

// KeyHash is the note key hash of a public key: the first four bytes of
// SHA-256(name || "\n" || 0x02 || PKIX DER of the key), the same shape as
// note's Ed25519 key hash.
func KeyHash(name string, pub any) (uint32, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return 0, fmt.Errorf("audit key: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{keyAlgorithm})
	h.Write(der)
	return binary.BigEndian.Uint32(h.Sum(nil)), nil
}

type noteSigner struct {
	hash uint32
	s    signature.Signer
}

// NoteSigner signs checkpoints with a sigstore signer (for example a
// cosign-format key loaded by keys/).
func NoteSigner(sv signature.SignerVerifier) (note.Signer, error) {
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	h, err := KeyHash(KeyName, pub)
	if err != nil {
		return nil, err
	}
	return &noteSigner{hash: h, s: sv}, nil
}

func (n *noteSigner) Name() string    { return KeyName }
func (n *noteSigner) KeyHash() uint32 { return n.hash }
func (n *noteSigner) Sign(msg []byte) ([]byte, error) {
	return n.s.SignMessage(bytes.NewReader(msg))
}

type noteVerifier struct {
	hash uint32
	v    signature.Verifier
}

// NoteVerifier checks checkpoint signatures with a sigstore verifier.
func NoteVerifier(v signature.Verifier) (note.Verifier, error) {
	pub, err := v.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	h, err := KeyHash(KeyName, pub)
	if err != nil {
		return nil, err
	}
	return &noteVerifier{hash: h, v: v}, nil
}

func (n *noteVerifier) Name() string    { return KeyName }
func (n *noteVerifier) KeyHash() uint32 { return n.hash }
func (n *noteVerifier) Verify(msg, sig []byte) bool {
	return n.v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)) == nil
}
