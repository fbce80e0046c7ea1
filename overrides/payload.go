package overrides

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cyberphone/json-canonicalization/go/src/webpki.org/jsoncanonicalizer"
)

// payloadDomain separates override signatures from every other use of a
// council key (bundle signatures, audit checkpoints): a signature over one
// is never a valid signature over another.
const payloadDomain = "charter.dev/v1 Override signature\n"

// signed is every field of a document except the signatures, with the times
// in UTC: what the council approves.
type signed struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	ID         string     `json:"id"`
	Spec       signedSpec `json:"spec"`
}

type signedSpec struct {
	Charter   string   `json:"charter"`
	Articles  []string `json:"articles"`
	Scope     Scope    `json:"scope"`
	Reason    string   `json:"reason"`
	Requester string   `json:"requester"`
	NotBefore string   `json:"notBefore"`
	Expires   string   `json:"expires"`
}

// Payload is the byte string each council signature covers: the domain
// prefix, the charter name on a line of its own, and the RFC 8785 canonical
// JSON of every field but the signatures. Changing any of them (scope,
// articles, times, reason, requester, id, charter) changes the payload.
func Payload(d *Document) ([]byte, error) {
	s := signed{
		APIVersion: d.APIVersion, Kind: d.Kind, ID: d.Metadata.Name,
		Spec: signedSpec{
			Charter: d.Spec.Charter, Articles: d.Spec.Articles, Scope: d.Spec.Scope,
			Reason: d.Spec.Reason, Requester: d.Spec.Requester,
			NotBefore: d.Spec.NotBefore.UTC().Format(time.RFC3339Nano),
			Expires:   d.Spec.Expires.UTC().Format(time.RFC3339Nano),
		},
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode signing payload: %w", err)
	}
	canon, err := jsoncanonicalizer.Transform(raw)
	if err != nil {
		return nil, fmt.Errorf("canonicalize signing payload: %w", err)
	}
	out := make([]byte, 0, len(payloadDomain)+len(d.Spec.Charter)+len(canon)+10)
	out = append(out, payloadDomain...)
	out = append(out, "charter "+d.Spec.Charter+"\n"...)
	return append(out, canon...), nil
}
