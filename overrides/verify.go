package overrides

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/charter-dev/charter/compiler"
)

// CheckCouncil: the charter has no council, so nothing can approve an override.
const CheckCouncil Check = "council"

func init() { sentinels[CheckCouncil] = ErrNoCouncil }

// SignatureStatus says what became of one signature.
type SignatureStatus string

// Signature outcomes; only Valid counts, once per key.
const (
	SignatureValid      SignatureStatus = "valid"
	SignatureDuplicate  SignatureStatus = "duplicate"   // a key that already approved: counts once
	SignatureUnknownKey SignatureStatus = "unknown-key" // the key is not in the council
	SignatureMalformed  SignatureStatus = "malformed"   // not base64, or not a whole ECDSA signature (truncated)
	SignatureInvalid    SignatureStatus = "invalid"     // does not verify: forged, or the document changed after signing
)

// SignatureResult is the outcome of one signature.
type SignatureResult struct {
	KeyID   string
	KeyName string // the council's name for the key, when it is a council key
	Status  SignatureStatus
}

// Verifier checks overrides against one compiled charter: its name, its
// articles and its council.
type Verifier struct {
	charter  string
	articles map[string]bool
	council  *Council // nil: the charter has no council
}

// NewVerifier prepares the checks for the charter a bundle carries. A
// council the bundle carries but that does not parse is an error (could not
// check); a charter without a council fails every override.
func NewVerifier(info compiler.Info) (*Verifier, error) {
	v := &Verifier{charter: info.Name, articles: map[string]bool{}}
	for id := range info.Articles {
		v.articles[id] = true
	}
	if info.Council != nil {
		c, err := NewCouncil(info.Council)
		if err != nil {
			return nil, err
		}
		v.council = c
	}
	return v, nil
}

// Council is the council overrides are checked against (nil: none).
func (v *Verifier) Council() *Council { return v.council }

// Charter is the name of the charter overrides must be written for.
func (v *Verifier) Charter() string { return v.charter }

// Verify checks d at time now. It answers the verified override, or a
// *Failure naming the first check that failed, with the count of distinct
// valid approvals.
func (v *Verifier) Verify(d *Document, now time.Time) (*Verified, error) {
	if err := d.Check(); err != nil {
		var f *Failure
		if errors.As(err, &f) {
			f.ID = d.Metadata.Name
		}
		return nil, err
	}
	fail := &Failure{ID: d.ID()}
	failed := func(c Check, format string, args ...any) (*Verified, error) {
		fail.Check, fail.Reason = c, fmt.Sprintf(format, args...)
		return nil, fail
	}
	if d.Spec.Charter != v.charter {
		return failed(CheckCharter, "written for charter %q; this bundle enforces %q", d.Spec.Charter, v.charter)
	}
	if v.council == nil {
		return failed(CheckCouncil, "charter %q has no council (spec.council), so no override can be approved", v.charter)
	}
	payload, err := Payload(d)
	if err != nil {
		return nil, err
	}
	fail.Threshold = v.council.Threshold
	var approvals []string
	fail.Results, approvals = v.council.check(d.Signatures, payload)
	fail.Approvals = len(approvals)
	if v.council.Revoked(d.ID()) {
		return failed(CheckRevoked, "the charter revokes override %s (council.revoked)", d.ID())
	}
	for _, a := range d.Spec.Articles {
		if !v.articles[a] {
			return failed(CheckScope, "article %s is not in charter %q", a, v.charter)
		}
	}
	if lt := d.Spec.Expires.Sub(d.Spec.NotBefore); lt > v.council.MaxLifetime {
		return failed(CheckLifetime, "lasts %s (%s to %s); the council allows at most %s", lt, stamp(d.Spec.NotBefore), stamp(d.Spec.Expires), v.council.MaxLifetime)
	}
	if now.Before(d.Spec.NotBefore) {
		return failed(CheckNotYetValid, "valid from %s, in %s", stamp(d.Spec.NotBefore), d.Spec.NotBefore.Sub(now).Round(time.Second))
	}
	if !now.Before(d.Spec.Expires) {
		return failed(CheckExpired, "expired at %s, %s ago", stamp(d.Spec.Expires), now.Sub(d.Spec.Expires).Round(time.Second))
	}
	if len(approvals) < v.council.Threshold {
		return failed(CheckApprovals, "needs %d distinct council approvals, has %d%s", v.council.Threshold, len(approvals), describe(fail.Results))
	}
	return newVerified(d, approvals), nil
}

// describe lists the signatures that did not count, for the message.
func describe(results []SignatureResult) string {
	var parts []string
	for i, r := range results {
		if r.Status == SignatureValid {
			continue
		}
		who := r.KeyName
		if who == "" {
			who = r.KeyID
		}
		parts = append(parts, fmt.Sprintf("signature %d (%s): %s", i+1, who, statusText[r.Status]))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

var statusText = map[SignatureStatus]string{
	SignatureDuplicate:  "the same council key signed already, it counts once",
	SignatureUnknownKey: "key is not in the council",
	SignatureMalformed:  "malformed (not base64, or a truncated ECDSA signature)",
	SignatureInvalid:    "does not verify (forged, or the override changed after signing)",
}

// check verifies each signature over payload and returns the outcomes and
// the distinct council key ids that approved.
func (c *Council) check(sigs []Signature, payload []byte) ([]SignatureResult, []string) {
	results := make([]SignatureResult, 0, len(sigs))
	approved := map[string]bool{}
	var approvals []string
	for _, s := range sigs {
		r := SignatureResult{KeyID: s.KeyID, KeyName: c.KeyName(s.KeyID)}
		k, member := c.byID[s.KeyID]
		raw, err := base64.StdEncoding.Strict().DecodeString(s.Signature)
		switch {
		case !member:
			r.Status = SignatureUnknownKey
		case err != nil || !wholeECDSASignature(raw):
			r.Status = SignatureMalformed
		case !c.memo.valid(k.id, raw, payload, func() bool {
			return k.verifier.VerifySignature(bytes.NewReader(raw), bytes.NewReader(payload)) == nil
		}):
			r.Status = SignatureInvalid
		case approved[k.id]:
			r.Status = SignatureDuplicate
		default:
			r.Status = SignatureValid
			approved[k.id] = true
			approvals = append(approvals, k.id)
		}
		results = append(results, r)
	}
	return results, approvals
}

// wholeECDSASignature reports whether raw is exactly one ASN.1 ECDSA
// signature (SEQUENCE of two positive INTEGERs), so a truncated signature
// is named as such rather than as a forgery.
func wholeECDSASignature(raw []byte) bool {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(raw, &sig)
	return err == nil && len(rest) == 0 && sig.R.Sign() > 0 && sig.S.Sign() > 0
}
