package compiler

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/keys"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

func writePublicKey(t *testing.T, path string, curve elliptic.Curve) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem, 0o644); err != nil {
		t.Fatal(err)
	}
}

func councilCharter(t *testing.T, dir, council string) string {
	t.Helper()
	p := filepath.Join(dir, "c.yaml")
	src := "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: shop}\nspec:\n  council: " + council + "\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCouncilEmbedsKeys: the bundle carries the council's public keys
// themselves, with their ids, the lifetime limit and the revocations.
func TestCouncilEmbedsKeys(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "council"), 0o755)
	writePublicKey(t, filepath.Join(dir, "council", "alice.pub"), elliptic.P256())
	writePublicKey(t, filepath.Join(dir, "council", "bob.pub"), elliptic.P256())
	c, err := charter.Load(councilCharter(t, dir, "{threshold: 2, keys: [council/alice.pub, council/bob.pub], maxLifetime: 30m, revoked: [old-1]}"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	ci := out.Info.Council
	if ci == nil || ci.Threshold != 2 || ci.MaxLifetime != "30m0s" || len(ci.Revoked) != 1 || len(ci.Keys) != 2 {
		t.Fatalf("council = %+v", ci)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "council", "bob.pub"))
	v, err := keys.ParsePublic([]byte(ci.Keys[1].PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := v.PublicKey()
	id, _ := keys.ID(pub)
	if ci.Keys[1].Name != "council/bob.pub" || ci.Keys[1].ID != id || ci.Keys[1].PublicKey != string(data) {
		t.Errorf("key = %+v, want bob.pub's key and id %s", ci.Keys[1], id)
	}
	c, _ = charter.Load(councilCharter(t, dir, "{threshold: 1, keys: [council/alice.pub]}"))
	if out, err := Compile(c); err != nil || out.Info.Council.MaxLifetime != "24h0m0s" {
		t.Errorf("default maxLifetime: %v %+v", err, out.Info.Council)
	}
}

func TestCouncilKeyErrors(t *testing.T) {
	dir := t.TempDir()
	writePublicKey(t, filepath.Join(dir, "alice.pub"), elliptic.P256())
	writePublicKey(t, filepath.Join(dir, "p384.pub"), elliptic.P384())
	alice, _ := os.ReadFile(filepath.Join(dir, "alice.pub"))
	os.WriteFile(filepath.Join(dir, "alice-copy.pub"), alice, 0o644)
	os.WriteFile(filepath.Join(dir, "garbage.pub"), []byte("not a key"), 0o644)
	tests := []struct{ keys, want string }{
		{"[missing.pub]", "c.yaml:5:34: council key missing.pub: stat: no such file or directory"},
		{"[garbage.pub]", "c.yaml:5:34: council key garbage.pub: not a cosign key: no PEM block"},
		{"[p384.pub]", "c.yaml:5:34: council key p384.pub is ECDSA P-384; council keys are ECDSA P-256"},
		{"[alice.pub, alice-copy.pub]", "c.yaml:5:45: council key alice-copy.pub is the same public key as alice.pub (c.yaml:5:34): one custodian would count twice"},
	}
	for _, tt := range tests {
		c, err := charter.Load(councilCharter(t, dir, "{threshold: 1, keys: "+tt.keys+"}"))
		if err == nil {
			_, err = Compile(c)
		}
		if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), dir+"/", ""), tt.want) {
			t.Errorf("keys %s: error %v, want %q", tt.keys, err, tt.want)
		}
	}
}
