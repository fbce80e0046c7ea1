package council

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"fmt"

	"github.com/charter-dev/charter/keys"
	"github.com/hashicorp/vault/shamir"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Key is a council key rebuilt from shares. Wipe it as soon as it has signed.
type Key struct {
	priv *ecdsa.PrivateKey
	id   string
}

// ID is the council key's id (keys.ID of its public half).
func (k *Key) ID() string { return k.id }

// Signer signs with the rebuilt key (ECDSA P-256, SHA-256), as any council
// key does: give it to overrides.Sign.
func (k *Key) Signer() (signature.SignerVerifier, error) {
	if k.priv == nil {
		return nil, fmt.Errorf("council key %s was wiped", k.id)
	}
	return signature.LoadECDSASignerVerifier(k.priv, crypto.SHA256)
}

// Wipe zeroes the private scalar this Key holds and forgets it.
func (k *Key) Wipe() {
	if k.priv != nil {
		wipeKey(k.priv)
		k.priv = nil
	}
}

// wipeKey zeroes the words of the private scalar in place.
//
// What Go cannot guarantee: crypto/ecdsa keeps its own copy of the scalar
// in an unexported field (the FIPS module's key) that nothing outside the
// standard library can reach; the garbage collector does not zero freed
// memory, the runtime may have copied goroutine stacks holding key bytes
// when they grew, and the share strings (base64, immutable) stay until
// collected. Nothing here is locked against swap. Wiping shortens the time
// the key sits in memory; it does not make a core dump of a live process
// safe.
func wipeKey(priv *ecdsa.PrivateKey) {
	//lint:ignore SA1019 D is deprecated for computing with; zeroing its words is wiping the one copy of the scalar outside the standard library's reach
	if d := priv.D; d != nil {
		clear(d.Bits()) // Bits shares d's backing array; the key is dropped after this
	}
}

// Combine checks shares and rebuilds the council key from them: every
// share from one split (same split id, council key, threshold), no share
// twice, at least the threshold of them, and a rebuilt key whose public
// half is the council key's. want, when not nil, pins the council public
// key the shares must rebuild (the charter's): shares of any other key are
// foreign. Each share must come from Parse (authentic); a failure names
// the share.
func Combine(shares []*Share, want crypto.PublicKey) (*Key, error) {
	if len(shares) == 0 {
		return nil, fmt.Errorf("%w: no share given", ErrTooFew)
	}
	first := shares[0]
	seen := map[int]*Share{}
	for _, s := range shares {
		if s.Split != first.Split || s.KeyID != first.KeyID || s.Threshold != first.Threshold || s.Shares != first.Shares {
			return nil, fmt.Errorf("%w: %s is share %d of split %s (key %s, %d of %d); %s is of split %s (key %s, %d of %d)",
				ErrForeign, s.Name(), s.Index, s.Split, s.KeyID, s.Threshold, s.Shares,
				first.Name(), first.Split, first.KeyID, first.Threshold, first.Shares)
		}
		if prev, ok := seen[s.Index]; ok {
			return nil, fmt.Errorf("%w: %s and %s are both share %d of split %s", ErrDuplicate, prev.Name(), s.Name(), s.Index, s.Split)
		}
		seen[s.Index] = s
	}
	if len(seen) < first.Threshold {
		return nil, fmt.Errorf("%w: split %s needs %d distinct shares, got %d", ErrTooFew, first.Split, first.Threshold, len(seen))
	}
	pub, _, err := first.publicKey()
	if err != nil {
		return nil, err
	}
	if want != nil {
		wantID, err := keys.ID(want)
		if err != nil {
			return nil, err
		}
		if wantID != first.KeyID {
			return nil, fmt.Errorf("%w: the shares are of council key %s, not of %s", ErrForeign, first.KeyID, wantID)
		}
	}
	parts := make([][]byte, 0, len(shares))
	defer func() {
		for _, p := range parts {
			clear(p)
		}
	}()
	for _, s := range shares {
		p, err := base64.StdEncoding.Strict().DecodeString(s.Value)
		if err != nil {
			clear(p)
			return nil, fmt.Errorf("%w: %s: share is not base64", ErrMalformed, s.Name())
		}
		parts = append(parts, p)
	}
	secret, err := shamir.Combine(parts)
	defer clear(secret)
	if err != nil {
		// Two shares with one x coordinate: only a split that lied makes them.
		return nil, fmt.Errorf("%w: the shares do not combine: %v", ErrMismatch, err)
	}
	// Combine returns garbage, not an error, for shares that do not belong
	// together: only the public half tells a rebuilt key from garbage.
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), secret)
	if err != nil {
		return nil, fmt.Errorf("%w: the shares of split %s combine into no P-256 key (%v)", ErrMismatch, first.Split, err)
	}
	if !priv.PublicKey.Equal(pub) {
		got, _ := keys.ID(&priv.PublicKey)
		wipeKey(priv)
		return nil, fmt.Errorf("%w: the shares of split %s rebuild key %s, not council key %s", ErrMismatch, first.Split, got, first.KeyID)
	}
	return &Key{priv: priv, id: first.KeyID}, nil
}
