package council

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/charter-dev/charter/keys"
	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
	"github.com/hashicorp/vault/shamir"
	"github.com/sigstore/sigstore/pkg/signature"
)

// APIVersion and ShareKind identify a share file.
const (
	APIVersion = "charter.dev/v1"
	ShareKind  = "CouncilShare"
)

// MaxShareSize bounds a share file: one is well under 2 KiB.
const MaxShareSize = 16 << 10

// secretSize is the size of a P-256 private scalar, the secret that is split.
const secretSize = 32

// shareDomain separates share signatures from every other use of the
// council key (override approvals, bundle signatures).
const shareDomain = "charter.dev/v1 CouncilShare signature\n"

// Share is one share file: a versioned wire format, JSON.
type Share struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Split      string `json:"split"`     // random id of the split: 32 hex digits
	Index      int    `json:"index"`     // 1 to Shares
	Shares     int    `json:"shares"`    // how many shares the split made (n)
	Threshold  int    `json:"threshold"` // how many rebuild the key (k)
	KeyID      string `json:"keyid"`     // keys.ID of the council public key
	PublicKey  string `json:"publicKey"` // the council public key, PEM (cosign format)
	Value      string `json:"share"`     // the vault share, base64: 32 bytes and vault's 1-byte tag
	Signature  string `json:"signature"` // the council key's ECDSA signature over Payload, base64 (ASN.1 DER)

	// Source names the share in messages (its file), never serialized.
	Source string `json:"-"`
}

// Name is how messages name the share: its file, else its index.
func (s *Share) Name() string {
	if s.Source != "" {
		return s.Source
	}
	return fmt.Sprintf("share %d", s.Index)
}

// Payload is what the council key signs for one share: a domain prefix and
// the RFC 8785 canonical JSON of every field but the signature.
func Payload(s *Share) ([]byte, error) {
	c := *s
	c.Signature = "" // signed as the empty string
	raw, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encode share payload: %w", err)
	}
	canon, err := jsoncanonicalizer.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonicalize share payload: %w", err)
	}
	return append([]byte(shareDomain), canon...), nil
}

// Marshal writes the share file.
func (s *Share) Marshal() ([]byte, error) {
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode share: %w", err)
	}
	return append(out, '\n'), nil
}

// Parse reads one share file and checks it: its structure, that its public
// key is a P-256 key whose id it carries, and that the council key signed
// every field of it. A share that parses is authentic; whether it belongs
// with the others is Combine's check.
func Parse(data []byte) (*Share, error) {
	if len(data) > MaxShareSize {
		return nil, fmt.Errorf("%w: %d bytes; a share file is at most %d", ErrMalformed, len(data), MaxShareSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Share
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: not a share file: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the share", ErrMalformed)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	pub, verifier, err := s.publicKey()
	if err != nil {
		return nil, err
	}
	if id, err := keys.ID(pub); err != nil || id != s.KeyID {
		return nil, fmt.Errorf("%w: keyid %s is not the id of its public key", ErrTampered, s.KeyID)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(s.Signature)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64", ErrMalformed)
	}
	payload, err := Payload(&s)
	if err != nil {
		return nil, err
	}
	if err := verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(payload)); err != nil {
		return nil, fmt.Errorf("%w: the council key's signature over share %d of split %s does not verify", ErrTampered, s.Index, s.Split)
	}
	return &s, nil
}

// check is the structural part of Parse.
func (s *Share) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	switch {
	case s.APIVersion != APIVersion:
		return bad("apiVersion %q, want %q", s.APIVersion, APIVersion)
	case s.Kind != ShareKind:
		return bad("kind %q, want %q", s.Kind, ShareKind)
	case !isSplitID(s.Split):
		return bad("split %q is not a split id (32 lower-case hex digits)", s.Split)
	case s.Shares < 2 || s.Shares > 255:
		return bad("shares %d: a split makes 2 to 255 shares", s.Shares)
	case s.Threshold < 2 || s.Threshold > s.Shares:
		return bad("threshold %d: it must be between 2 and the number of shares (%d)", s.Threshold, s.Shares)
	case s.Index < 1 || s.Index > s.Shares:
		return bad("index %d: it must be between 1 and the number of shares (%d)", s.Index, s.Shares)
	}
	v, err := base64.StdEncoding.Strict().DecodeString(s.Value)
	defer clear(v)
	if err != nil || len(v) != secretSize+shamir.ShareOverhead {
		return bad("share is not %d bytes of base64", secretSize+shamir.ShareOverhead)
	}
	return nil
}

func (s *Share) publicKey() (crypto.PublicKey, signature.Verifier, error) {
	v, err := keys.ParsePublic([]byte(s.PublicKey))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: publicKey: %v", ErrMalformed, err)
	}
	pub, err := v.PublicKey()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: publicKey: %v", ErrMalformed, err)
	}
	if !keys.IsP256(pub) {
		return nil, nil, fmt.Errorf("%w: publicKey is %s; council keys are ECDSA P-256", ErrMalformed, keys.Describe(pub))
	}
	return pub, v, nil
}

func isSplitID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && s == hexLower(s)
}

func hexLower(s string) string {
	b, _ := hex.DecodeString(s)
	return hex.EncodeToString(b)
}
