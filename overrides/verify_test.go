package overrides

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/keys"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// custodians are the test council's keys (alice, bob, carol) and an outsider.
type custodians struct {
	alice, bob, carol, mallory signature.SignerVerifier
}

var testCustodians *custodians

// newKey is an ECDSA P-256 signer as keys.ParsePrivate returns for a cosign
// key, without the scrypt of an encrypted key file.
func newKey(t testing.TB) signature.SignerVerifier {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

// newCustodians makes the keys once per test binary.
func newCustodians(t testing.TB) *custodians {
	t.Helper()
	if testCustodians == nil {
		testCustodians = &custodians{alice: newKey(t), bob: newKey(t), carol: newKey(t), mallory: newKey(t)}
	}
	return testCustodians
}

func keyOf(t testing.TB, name string, sv signature.SignerVerifier) compiler.CouncilKey {
	t.Helper()
	pub, err := sv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	pem, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	id, err := keys.ID(pub)
	if err != nil {
		t.Fatal(err)
	}
	return compiler.CouncilKey{Name: name, ID: id, PublicKey: string(pem)}
}

// info is a compiled charter "shop" with articles AD-001 and AD-002 and a
// 2-of-3 council with at most 24h overrides, revoking "revoked-1".
func (c *custodians) info(t testing.TB) compiler.Info {
	return compiler.Info{
		Name:     "shop",
		Articles: map[string]compiler.ArticleInfo{"AD-001": {}, "AD-002": {}},
		Council: &compiler.CouncilInfo{
			Threshold:   2,
			Keys:        []compiler.CouncilKey{keyOf(t, "alice.pub", c.alice), keyOf(t, "bob.pub", c.bob), keyOf(t, "carol.pub", c.carol)},
			MaxLifetime: "24h",
			Revoked:     []string{"revoked-1"},
		},
	}
}

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func request() *Document {
	return &Document{
		APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "debug-web-1"},
		Spec: Spec{
			Charter: "shop", Articles: []string{"AD-001"},
			Scope:  Scope{Namespace: "shop", Kind: "Pod", Name: "web-*"},
			Reason: "debug a crash loop", Requester: "sre@example.com",
			NotBefore: t0, Expires: t0.Add(time.Hour),
		},
	}
}

func sign(t testing.TB, d *Document, signers ...signature.Signer) *Document {
	t.Helper()
	for _, s := range signers {
		if err := Sign(d, s); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestVerify is the negative table of issue 9: each way an override may
// fail to count, with its own check and message.
func TestVerify(t *testing.T) {
	c := newCustodians(t)
	v, err := NewVerifier(c.info(t))
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(10 * time.Minute)
	tests := []struct {
		name      string
		doc       func() *Document
		now       time.Time
		want      error // nil: verifies
		approvals int
		msg       string // part of the error message
	}{
		{"k approvals", func() *Document { return sign(t, request(), c.alice, c.bob) }, now, nil, 2, ""},
		{"all three approvals", func() *Document { return sign(t, request(), c.alice, c.bob, c.carol) }, now, nil, 3, ""},
		{"k-1 approvals", func() *Document { return sign(t, request(), c.alice) }, now, ErrApprovals, 1,
			"approvals check failed: needs 2 distinct council approvals, has 1 (1 of 2 valid approvals)"},
		{"no approvals", request, now, ErrApprovals, 0, "has 0 (0 of 2 valid approvals)"},
		{"same custodian twice", func() *Document {
			d := sign(t, request(), c.alice)
			d.Signatures = append(d.Signatures, d.Signatures[0])
			return d
		}, now, ErrApprovals, 1, "signature 2 (alice.pub): the same council key signed already, it counts once"},
		{"same custodian, second signature made anew", func() *Document {
			d := sign(t, request(), c.alice)
			other := sign(t, request(), c.alice)
			d.Signatures = append(d.Signatures, other.Signatures[0])
			return d
		}, now, ErrApprovals, 1, "(1 of 2 valid approvals)"},
		{"key outside the council", func() *Document { return sign(t, request(), c.alice, c.mallory) }, now, ErrApprovals, 1, "key is not in the council"},
		{"forged: outsider signs under a council key id", func() *Document {
			d := sign(t, request(), c.alice, c.mallory)
			d.Signatures[1].KeyID = d.Signatures[0].KeyID
			forged := sign(t, request(), c.bob)
			d.Signatures[1].KeyID = forged.Signatures[0].KeyID
			return d
		}, now, ErrApprovals, 1, "signature 2 (bob.pub): does not verify (forged, or the override changed after signing)"},
		{"forged: random bytes", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			raw, _ := base64.StdEncoding.DecodeString(d.Signatures[1].Signature)
			raw[len(raw)-1] ^= 0x01
			d.Signatures[1].Signature = base64.StdEncoding.EncodeToString(raw)
			return d
		}, now, ErrApprovals, 1, "does not verify"},
		{"truncated signature", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			raw, _ := base64.StdEncoding.DecodeString(d.Signatures[1].Signature)
			d.Signatures[1].Signature = base64.StdEncoding.EncodeToString(raw[:len(raw)-5])
			return d
		}, now, ErrApprovals, 1, "signature 2 (bob.pub): malformed (not base64, or a truncated ECDSA signature)"},
		{"signature not base64", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			d.Signatures[1].Signature = "!!" + d.Signatures[1].Signature
			return d
		}, now, ErrApprovals, 1, "malformed"},
		{"scope widened after signing (name)", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			d.Spec.Scope.Name = "*"
			return d
		}, now, ErrApprovals, 0, "(0 of 2 valid approvals)"},
		{"replay onto another namespace", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			d.Spec.Scope.Namespace = "payments"
			return d
		}, now, ErrApprovals, 0, "does not verify"},
		{"replay onto another kind", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			d.Spec.Scope.Kind = "Deployment"
			return d
		}, now, ErrApprovals, 0, "does not verify"},
		{"replay onto another object (label selector dropped)", func() *Document {
			d := request()
			d.Spec.Scope.LabelSelector = &LabelSelector{MatchLabels: map[string]string{"app": "web"}}
			sign(t, d, c.alice, c.bob)
			d.Spec.Scope.LabelSelector = nil
			return d
		}, now, ErrApprovals, 0, "does not verify"},
		{"articles added after signing", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			d.Spec.Articles = append(d.Spec.Articles, "AD-002")
			return d
		}, now, ErrApprovals, 0, "does not verify"},
		{"expiry extended after signing", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			d.Spec.Expires = d.Spec.Expires.Add(time.Hour)
			return d
		}, now, ErrApprovals, 0, "does not verify"},
		{"reason changed after signing", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			d.Spec.Reason += "!"
			return d
		}, now, ErrApprovals, 0, "does not verify"},
		{"id changed after signing", func() *Document {
			d := sign(t, request(), c.alice, c.bob)
			d.Metadata.Name = "debug-web-2"
			return d
		}, now, ErrApprovals, 0, "does not verify"},
		{"expired", func() *Document { return sign(t, request(), c.alice, c.bob) }, t0.Add(time.Hour), ErrExpired, 2,
			"expired check failed: expired at 2026-12-01T13:00:00Z, 0s ago (2 of 2 valid approvals)"},
		{"not yet valid", func() *Document { return sign(t, request(), c.alice, c.bob) }, t0.Add(-time.Minute), ErrNotYetValid, 2,
			"not-yet-valid check failed: valid from 2026-12-01T12:00:00Z, in 1m0s"},
		{"lifetime over the maximum", func() *Document {
			d := request()
			d.Spec.Expires = t0.Add(25 * time.Hour)
			return sign(t, d, c.alice, c.bob)
		}, now, ErrLifetime, 2, "lifetime check failed: lasts 25h0m0s (2026-12-01T12:00:00Z to 2026-12-02T13:00:00Z); the council allows at most 24h0m0s"},
		{"revoked", func() *Document {
			d := request()
			d.Metadata.Name = "revoked-1"
			return sign(t, d, c.alice, c.bob)
		}, now, ErrRevoked, 2, "revoked check failed: the charter revokes override revoked-1"},
		{"another charter", func() *Document {
			d := request()
			d.Spec.Charter = "payments"
			return sign(t, d, c.alice, c.bob)
		}, now, ErrCharter, 0, `charter check failed: written for charter "payments"; this bundle enforces "shop"`},
		{"article not in the charter", func() *Document {
			d := request()
			d.Spec.Articles = []string{"AD-099"}
			return sign(t, d, c.alice, c.bob)
		}, now, ErrScope, 2, `scope check failed: article AD-099 is not in charter "shop"`},
		{"cluster-wide scope", func() *Document {
			d := request()
			d.Spec.Scope.Namespace = "*"
			return d
		}, now, ErrMalformed, 0, "is not one namespace name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(tt.doc(), tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if len(got.Approvals) != tt.approvals || got.ID != "debug-web-1" || got.ExpiresNs != t0.Add(time.Hour).UnixNano() {
					t.Errorf("verified = %+v, want %d approvals", got, tt.approvals)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("error %v is not a *Failure", err)
			}
			if f.Approvals != tt.approvals {
				t.Errorf("approvals = %d, want %d (%v)", f.Approvals, tt.approvals, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err, tt.msg)
			}
		})
	}
}

// TestCouncilCountsKeysNotNames: one public key listed under two names is
// one custodian, and two signatures by it are one approval.
func TestCouncilCountsKeysNotNames(t *testing.T) {
	c := newCustodians(t)
	info := c.info(t)
	alias := keyOf(t, "alice-laptop.pub", c.alice)
	info.Council.Keys = append([]compiler.CouncilKey{alias}, info.Council.Keys...)
	v, err := NewVerifier(info)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Council().Size(); got != 3 {
		t.Errorf("council size = %d, want 3 distinct keys", got)
	}
	d := sign(t, request(), c.alice)
	d.Signatures = append(d.Signatures, d.Signatures[0])
	_, err = v.Verify(d, t0.Add(time.Minute))
	if !errors.Is(err, ErrApprovals) || !strings.Contains(err.Error(), "(1 of 2 valid approvals)") {
		t.Errorf("Verify = %v, want 1 of 2 valid approvals", err)
	}
	info.Council.Threshold = 3
	info.Council.Keys = []compiler.CouncilKey{alias, keyOf(t, "alice.pub", c.alice), keyOf(t, "bob.pub", c.bob)}
	if _, err := NewVerifier(info); err == nil || !strings.Contains(err.Error(), "threshold 3, but 2 distinct keys") {
		t.Errorf("NewVerifier of a council that can never approve = %v", err)
	}
}

func TestNoCouncil(t *testing.T) {
	c := newCustodians(t)
	info := c.info(t)
	info.Council = nil
	v, err := NewVerifier(info)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(sign(t, request(), c.alice, c.bob), t0)
	if !errors.Is(err, ErrNoCouncil) || !strings.Contains(err.Error(), "has no council") {
		t.Errorf("Verify without a council = %v", err)
	}
}

func TestCouncilKeyIDMustMatch(t *testing.T) {
	c := newCustodians(t)
	info := c.info(t)
	info.Council.Keys[0].ID = info.Council.Keys[1].ID
	if _, err := NewVerifier(info); err == nil || !strings.Contains(err.Error(), "is not its public key's") {
		t.Errorf("NewVerifier with a swapped key id = %v", err)
	}
}

func TestSignRefusesSecondSignatureOfOneKey(t *testing.T) {
	c := newCustodians(t)
	d := sign(t, request(), c.alice)
	if err := Sign(d, c.alice); err == nil || !strings.Contains(err.Error(), "already signed") {
		t.Errorf("second Sign = %v", err)
	}
}
