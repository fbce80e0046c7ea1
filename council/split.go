package council

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/charter-dev/charter/keys"
	"github.com/hashicorp/vault/shamir"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Custody is the outcome of a split: the council public key (for the
// charter's spec.council.keys) and the share files' contents.
type Custody struct {
	PublicKey []byte // PEM, cosign format
	KeyID     string
	Split     string
	Shares    []*Share
}

// Split makes a new council key (ECDSA P-256) and cuts its private half
// into n shares, any k of which rebuild it. The private key exists only in
// memory, is wiped before Split returns, and is never written.
func Split(n, k int) (*Custody, error) {
	if n < 2 || n > 255 {
		return nil, fmt.Errorf("--shares %d: a split makes 2 to 255 shares", n)
	}
	if k < 2 || k > n {
		return nil, fmt.Errorf("--threshold %d: it must be between 2 and the number of shares (%d); a threshold of 1 would make every share the whole key", k, n)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate council key: %w", err)
	}
	defer wipeKey(priv)
	return splitKey(priv, n, k, k)
}

// splitKey splits priv into n shares with threshold k. claimed is the
// threshold written into the share files: always k, except in the test of
// the rebuilt-key check, which needs authentic shares that do not rebuild
// the key.
func splitKey(priv *ecdsa.PrivateKey, n, k, claimed int) (*Custody, error) {
	secret, err := priv.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode council key: %w", err)
	}
	defer clear(secret)
	parts, err := shamir.Split(secret, n, k)
	if err != nil {
		return nil, fmt.Errorf("split council key: %w", err)
	}
	defer func() {
		for _, p := range parts {
			clear(p)
		}
	}()
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("encode council public key: %w", err)
	}
	id, err := keys.ID(priv.Public())
	if err != nil {
		return nil, err
	}
	signer, err := loadSigner(priv)
	if err != nil {
		return nil, fmt.Errorf("council key signer: %w", err)
	}
	splitID := make([]byte, 16)
	if _, err := rand.Read(splitID); err != nil {
		return nil, fmt.Errorf("split id: %w", err)
	}
	c := &Custody{PublicKey: pubPEM, KeyID: id, Split: hex.EncodeToString(splitID)}
	for i, p := range parts {
		s := &Share{
			APIVersion: APIVersion, Kind: ShareKind, Split: c.Split, Index: i + 1, Shares: n, Threshold: claimed,
			KeyID: id, PublicKey: string(pubPEM), Value: base64.StdEncoding.EncodeToString(p),
		}
		if err := signShare(s, signer); err != nil {
			return nil, err
		}
		c.Shares = append(c.Shares, s)
	}
	return c, nil
}

// signShare sets the share's signature by the council key.
func signShare(s *Share, signer signature.Signer) error {
	payload, err := Payload(s)
	if err != nil {
		return err
	}
	sig, err := signer.SignMessage(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("sign share %d: %w", s.Index, err)
	}
	s.Signature = base64.StdEncoding.EncodeToString(sig)
	return nil
}

func loadSigner(priv *ecdsa.PrivateKey) (signature.Signer, error) {
	return signature.LoadECDSASigner(priv, crypto.SHA256)
}
