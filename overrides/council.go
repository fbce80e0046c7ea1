package overrides

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/keys"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Council is the council of a compiled bundle, with its keys parsed. Keys
// are counted by their public key: one key listed under two names is one
// custodian.
type Council struct {
	Threshold   int
	MaxLifetime time.Duration
	revoked     map[string]bool
	keys        []*councilKey // distinct public keys, in charter order
	byID        map[string]*councilKey
	memo        sigMemo
}

type councilKey struct {
	id       string
	names    []string
	verifier signature.Verifier
}

// ErrNoCouncil: the bundle has no spec.council, so no override can count.
var ErrNoCouncil = errors.New("the charter has no council (spec.council): no override can be approved")

// NewCouncil parses the council a bundle carries. A key whose embedded id
// does not match its public key, or a council that could never reach its
// threshold, is an error: the bundle is not one the compiler made.
func NewCouncil(info *compiler.CouncilInfo) (*Council, error) {
	if info == nil {
		return nil, ErrNoCouncil
	}
	c := &Council{Threshold: info.Threshold, revoked: map[string]bool{}, byID: map[string]*councilKey{}}
	var err error
	if c.MaxLifetime, err = time.ParseDuration(info.MaxLifetime); err != nil || c.MaxLifetime <= 0 {
		return nil, fmt.Errorf("council maxLifetime %q is not a positive duration", info.MaxLifetime)
	}
	for _, id := range info.Revoked {
		c.revoked[id] = true
	}
	for _, k := range info.Keys {
		v, err := keys.ParsePublic([]byte(k.PublicKey))
		if err != nil {
			return nil, fmt.Errorf("council key %s: %w", k.Name, err)
		}
		pub, err := v.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("council key %s: %w", k.Name, err)
		}
		id, err := keys.ID(pub)
		if err != nil {
			return nil, fmt.Errorf("council key %s: %w", k.Name, err)
		}
		if k.ID != "" && k.ID != id {
			return nil, fmt.Errorf("council key %s: its id %s is not its public key's (%s)", k.Name, k.ID, id)
		}
		if prev, ok := c.byID[id]; ok {
			prev.names = append(prev.names, k.Name)
			continue
		}
		ck := &councilKey{id: id, names: []string{k.Name}, verifier: v}
		c.byID[id] = ck
		c.keys = append(c.keys, ck)
	}
	if c.Threshold < 1 || c.Threshold > len(c.keys) {
		return nil, fmt.Errorf("council threshold %d, but %d distinct keys: no override could ever count", c.Threshold, len(c.keys))
	}
	return c, nil
}

// Size is the number of distinct council keys.
func (c *Council) Size() int { return len(c.keys) }

// KeyName names the council key with this id ("" when it is not one).
func (c *Council) KeyName(id string) string {
	if k, ok := c.byID[id]; ok {
		return k.names[0]
	}
	return ""
}

// Revoked reports whether the charter revokes this override id.
func (c *Council) Revoked(id string) bool { return c.revoked[id] }

// KeyIDs are the distinct council key ids, in charter order.
func (c *Council) KeyIDs() []string {
	out := make([]string, 0, len(c.keys))
	for _, k := range c.keys {
		out = append(out, k.id)
	}
	return slices.Clip(out)
}
