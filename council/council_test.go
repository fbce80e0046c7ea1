package council

import (
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
	"github.com/charter-dev/charter/overrides"
)

// splitOf splits once per test binary (3 of 5) and parses every share back
// from its file bytes, as override sign does.
var testSplit *Custody

func split35(t *testing.T) *Custody {
	t.Helper()
	if testSplit == nil {
		c, err := Split(5, 3)
		if err != nil {
			t.Fatal(err)
		}
		testSplit = c
	}
	return testSplit
}

// reparse marshals and parses each share, naming it like a file.
func reparse(t *testing.T, shares ...*Share) []*Share {
	t.Helper()
	var out []*Share
	for _, s := range shares {
		data, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(data)
		if err != nil {
			t.Fatalf("Parse(share %d): %v", s.Index, err)
		}
		p.Source = "share-" + string(rune('0'+s.Index)) + ".json"
		out = append(out, p)
	}
	return out
}

func TestSplitWritesACosignPublicKeyAndAuthenticShares(t *testing.T) {
	c := split35(t)
	v, err := keys.ParsePublic(c.PublicKey)
	if err != nil {
		t.Fatalf("council public key is not a cosign public key: %v", err)
	}
	pub, _ := v.PublicKey()
	if id, _ := keys.ID(pub); id != c.KeyID || !keys.IsP256(pub) {
		t.Fatalf("public key %s (%s), custody says %s", id, keys.Describe(pub), c.KeyID)
	}
	if len(c.Shares) != 5 {
		t.Fatalf("%d shares, want 5", len(c.Shares))
	}
	for i, s := range reparse(t, c.Shares...) {
		if s.Index != i+1 || s.Threshold != 3 || s.Shares != 5 || s.Split != c.Split || s.KeyID != c.KeyID {
			t.Fatalf("share %d descriptor: %+v", i+1, s)
		}
	}
}

// TestAnyThresholdSharesRebuildTheKeyAndSignAnOverride: every 3-subset of
// the 5 shares rebuilds the council key, and its signature counts as that
// council key's approval in overrides.Verify.
func TestAnyThresholdSharesRebuildTheKeyAndSignAnOverride(t *testing.T) {
	c := split35(t)
	all := reparse(t, c.Shares...)
	info := compiler.Info{
		Name: "shop", Articles: map[string]compiler.ArticleInfo{"AD-020": {}},
		Council: &compiler.CouncilInfo{Threshold: 1, MaxLifetime: "24h",
			Keys: []compiler.CouncilKey{{Name: "council.pub", ID: c.KeyID, PublicKey: string(c.PublicKey)}}},
	}
	ver, err := overrides.NewVerifier(info)
	if err != nil {
		t.Fatal(err)
	}
	for a := 0; a < 5; a++ {
		for b := a + 1; b < 5; b++ {
			for d := b + 1; d < 5; d++ {
				k, err := Combine([]*Share{all[a], all[b], all[d]}, nil)
				if err != nil {
					t.Fatalf("shares %d,%d,%d: %v", a+1, b+1, d+1, err)
				}
				doc := testOverride()
				sv, err := k.Signer()
				if err != nil {
					t.Fatal(err)
				}
				if err := overrides.Sign(doc, sv); err != nil {
					t.Fatal(err)
				}
				k.Wipe()
				if _, err := k.Signer(); err == nil {
					t.Fatal("a wiped key still gives a signer")
				}
				if _, err := ver.Verify(doc, doc.Spec.NotBefore.Add(time.Minute)); err != nil {
					t.Fatalf("shares %d,%d,%d: the rebuilt key's approval does not verify: %v", a+1, b+1, d+1, err)
				}
			}
		}
	}
	if _, err := Combine(all, nil); err != nil {
		t.Fatalf("all five shares: %v", err)
	}
}

func testOverride() *overrides.Document {
	nb := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	return &overrides.Document{
		APIVersion: overrides.APIVersion, Kind: overrides.Kind, Metadata: overrides.Metadata{Name: "debug-shell"},
		Spec: overrides.Spec{
			Charter: "shop", Articles: []string{"AD-020"},
			Scope:  overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-*"},
			Reason: "incident 42", Requester: "sre@example.com", NotBefore: nb, Expires: nb.Add(30 * time.Minute),
		},
	}
}

func wantErr(t *testing.T, err error, sentinel error, parts ...string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v, want %v", err, sentinel)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not say %q", err, p)
		}
	}
	t.Logf("refused as expected: %v", err)
}

// alter decodes a share file as a map, changes one field and encodes it
// again, keeping the (now stale) signature.
func alter(t *testing.T, s *Share, edit func(*Share)) []byte {
	t.Helper()
	c := *s
	edit(&c)
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestTamperedShareValueIsNamedBeforeCombining(t *testing.T) {
	s := split35(t).Shares[1]
	data := alter(t, s, func(c *Share) {
		v, _ := base64.StdEncoding.DecodeString(c.Value)
		v[0] ^= 1
		c.Value = base64.StdEncoding.EncodeToString(v)
	})
	_, err := Parse(data)
	wantErr(t, err, ErrTampered, "share 2 of split "+s.Split, "does not verify")
}

func TestTamperedShareThresholdIsNamed(t *testing.T) {
	data := alter(t, split35(t).Shares[0], func(c *Share) { c.Threshold = 2 })
	_, err := Parse(data)
	wantErr(t, err, ErrTampered, "share 1")
}

func TestTamperedShareIndexIsNamed(t *testing.T) {
	data := alter(t, split35(t).Shares[0], func(c *Share) { c.Index = 4 })
	_, err := Parse(data)
	wantErr(t, err, ErrTampered, "share 4")
}

func TestTruncatedShareSignatureIsNamed(t *testing.T) {
	data := alter(t, split35(t).Shares[0], func(c *Share) {
		sig, _ := base64.StdEncoding.DecodeString(c.Signature)
		c.Signature = base64.StdEncoding.EncodeToString(sig[:len(sig)-4])
	})
	_, err := Parse(data)
	wantErr(t, err, ErrTampered)
}

// A share re-signed by another key under that key's id: authentic as a
// share of that other key, foreign to this split.
func TestShareResignedByAnotherKeyIsForeign(t *testing.T) {
	c := split35(t)
	mallory, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := splitKey(mallory, 5, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	forged := *c.Shares[2]
	forged.PublicKey, forged.KeyID = other.Shares[0].PublicKey, other.KeyID
	signer, _ := loadSigner(mallory)
	if err := signShare(&forged, signer); err != nil {
		t.Fatal(err)
	}
	shares := reparse(t, c.Shares[0], c.Shares[1], &forged)
	_, err = Combine(shares, nil)
	wantErr(t, err, ErrForeign, "share-3.json", other.KeyID)
}

func TestTooFewShares(t *testing.T) {
	c := split35(t)
	_, err := Combine(reparse(t, c.Shares[0], c.Shares[3]), nil)
	wantErr(t, err, ErrTooFew, "needs 3 distinct shares, got 2")
}

func TestNoShares(t *testing.T) {
	_, err := Combine(nil, nil)
	wantErr(t, err, ErrTooFew, "no share")
}

func TestSameShareTwice(t *testing.T) {
	c := split35(t)
	_, err := Combine(reparse(t, c.Shares[0], c.Shares[1], c.Shares[1]), nil)
	wantErr(t, err, ErrDuplicate, "share-2.json and share-2.json are both share 2")
}

func TestShareFromAnotherSplit(t *testing.T) {
	c := split35(t)
	other, err := Split(5, 3)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Combine(reparse(t, c.Shares[0], c.Shares[1], other.Shares[2]), nil)
	wantErr(t, err, ErrForeign, "share-3.json is share 3 of split "+other.Split, "of split "+c.Split)
}

// Two splits of one key: same council key, different split ids. Mixing
// them is refused even though the key is the same: their polynomials differ.
func TestShareFromAnotherSplitOfTheSameKey(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := splitKey(priv, 3, 2, 2)
	b, _ := splitKey(priv, 3, 2, 2)
	_, err = Combine(reparse(t, a.Shares[0], b.Shares[1]), nil)
	wantErr(t, err, ErrForeign, "split "+b.Split)
}

func TestSharesOfAnotherCouncilKeyThanPinned(t *testing.T) {
	c := split35(t)
	other, err := Split(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := keys.ParsePublic(other.PublicKey)
	want, _ := v.PublicKey()
	_, err = Combine(reparse(t, c.Shares[0], c.Shares[1], c.Shares[2]), want)
	wantErr(t, err, ErrForeign, "not of "+other.KeyID)
}

// A split whose files claim threshold 2 for a 3-of-n polynomial: every
// share is authentic, distinct and of one split, and vault's Combine
// returns a 32-byte "key" without error. Only the public-key check sees it.
func TestRebuiltKeyThatDoesNotMatch(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	lying, err := splitKey(priv, 5, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Combine(reparse(t, lying.Shares[0], lying.Shares[4]), nil)
	wantErr(t, err, ErrMismatch, "not council key "+lying.KeyID)
}

func TestMalformedShares(t *testing.T) {
	good, _ := split35(t).Shares[0].Marshal()
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "", "not a share file"},
		{"not json", "share: 1", "not a share file"},
		{"unknown field", strings.Replace(string(good), `"kind"`, `"extra": 1, "kind"`, 1), "unknown field"},
		{"two documents", string(good) + string(good), "data after the share"},
		{"wrong kind", strings.Replace(string(good), ShareKind, "Override", 1), "kind"},
		{"oversized", strings.Repeat(" ", MaxShareSize+1), "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.data))
			wantErr(t, err, ErrMalformed, tc.want)
		})
	}
}

func TestSplitRefusesBadCounts(t *testing.T) {
	for _, tc := range []struct{ n, k int }{{1, 1}, {3, 1}, {3, 4}, {256, 2}} {
		if _, err := Split(tc.n, tc.k); err == nil {
			t.Errorf("Split(%d, %d) succeeded", tc.n, tc.k)
		}
	}
}
