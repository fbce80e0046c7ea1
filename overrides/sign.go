package overrides

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/charter-dev/charter/keys"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Sign adds signer's approval to d. Signing twice with one key is refused
// (it would count once anyway). Any ECDSA P-256 signer works: a custodian's
// cosign key, or a council key rebuilt from Shamir shares.
func Sign(d *Document, signer signature.Signer) error {
	if err := d.Check(); err != nil {
		return err
	}
	pub, err := signer.PublicKey()
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if !keys.IsP256(pub) {
		return fmt.Errorf("signing key is %s; council keys are ECDSA P-256", keys.Describe(pub))
	}
	id, err := keys.ID(pub)
	if err != nil {
		return err
	}
	for _, s := range d.Signatures {
		if s.KeyID == id {
			return fmt.Errorf("override %s is already signed by key %s", d.ID(), id)
		}
	}
	payload, err := Payload(d)
	if err != nil {
		return err
	}
	sig, err := signer.SignMessage(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("sign override %s: %w", d.ID(), err)
	}
	d.Signatures = append(d.Signatures, Signature{KeyID: id, Signature: base64.StdEncoding.EncodeToString(sig)})
	return nil
}
