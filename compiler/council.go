package compiler

import (
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/keys"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// council embeds the council's public keys. Each key file must hold one
// cosign-format ECDSA P-256 public key, and no key may be listed twice (under
// two names it would look like two custodians).
func council(c *charter.Council) (*CouncilInfo, charter.ErrorList) {
	var errs charter.ErrorList
	out := &CouncilInfo{Threshold: c.Threshold, MaxLifetime: c.MaxLifetime.String(), Revoked: c.Revoked, Keys: []CouncilKey{}}
	seen := map[string]charter.CouncilKey{}
	for _, k := range c.Keys {
		if k.PEM == nil {
			errs.Add(k.Pos, "council key %s was not read (charters are loaded with charter.Load, which reads key files)", k.Path)
			continue
		}
		v, err := keys.ParsePublic(k.PEM)
		if err != nil {
			errs.Add(k.Pos, "council key %s: %v", k.Path, err)
			continue
		}
		pub, err := v.PublicKey()
		if err != nil {
			errs.Add(k.Pos, "council key %s: %v", k.Path, err)
			continue
		}
		if !keys.IsP256(pub) {
			errs.Add(k.Pos, "council key %s is %s; council keys are ECDSA P-256 (charter keys generate, cosign generate-key-pair)", k.Path, keys.Describe(pub))
			continue
		}
		id, err := keys.ID(pub)
		if err != nil {
			errs.Add(k.Pos, "council key %s: %v", k.Path, err)
			continue
		}
		if prev, dup := seen[id]; dup {
			errs.Add(k.Pos, "council key %s is the same public key as %s (%s): one custodian would count twice", k.Path, prev.Path, prev.Pos)
			continue
		}
		seen[id] = k
		pem, err := cryptoutils.MarshalPublicKeyToPEM(pub)
		if err != nil {
			errs.Add(k.Pos, "council key %s: %v", k.Path, err)
			continue
		}
		out.Keys = append(out.Keys, CouncilKey{Name: k.Path, ID: id, PublicKey: string(pem)})
	}
	return out, errs
}
