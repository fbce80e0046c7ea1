package interop

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles/oci"
	"github.com/charter-dev/charter/bundles/oci/ocitest"
	sigkeys "github.com/charter-dev/charter/keys"
)

// pushFixture pushes the signed anti-delos bundle with charter bundle push
// to a registry on loopback; it returns the registry and the reference
// without its oci:// scheme (what cosign and OPA take).
func pushFixture(t *testing.T, f signingFixture, repoTag string) (*ocitest.Registry, string) {
	t.Helper()
	reg := ocitest.Start(t)
	must(t, cli(t), "bundle", "push", "--key", f.key, f.tarball, reg.Ref(repoTag))
	return reg, reg.Host + "/" + repoTag
}

// TestCosignVerifiesPushedBundle: stock cosign verify --key accepts the
// signature charter bundle push attached in the registry (offline: no
// transparency log), and refuses another key and an unsigned push.
func TestCosignVerifiesPushedBundle(t *testing.T) {
	cosign := tool(t, "cosign")
	f := newSigningFixture(t)
	reg, ref := pushFixture(t, f, "charter/anti-delos:v1")
	out := must(t, cosign, "verify", "--key", f.pub, "--insecure-ignore-tlog=true", "--allow-http-registry", ref)
	var claims []struct {
		Critical struct {
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			} `json:"image"`
			Type string `json:"type"`
		} `json:"critical"`
	}
	if err := json.Unmarshal(out, &claims); err != nil || len(claims) != 1 || !strings.HasPrefix(claims[0].Critical.Image.Digest, "sha256:") {
		t.Fatalf("cosign verify output (%v):\n%s", err, out)
	}

	t.Setenv("COSIGN_PASSWORD", "interop")
	must(t, cli(t), "keys", "generate", "--out", filepath.Join(f.dir, "other"))
	if r := execute(t, nil, cosign, "verify", "--key", filepath.Join(f.dir, "other.pub"), "--insecure-ignore-tlog=true", "--allow-http-registry", ref); r.code == 0 {
		t.Errorf("cosign verified the pushed bundle with another key:\n%s", r)
	}

	tgz, err := os.ReadFile(f.tarball)
	if err != nil {
		t.Fatal(err)
	}
	n, err := oci.ParseReference(reg.Ref("charter/unsigned:v1"), oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oci.Push(context.Background(), n, tgz, nil, oci.Options{}); err != nil {
		t.Fatal(err)
	}
	if r := execute(t, nil, cosign, "verify", "--key", f.pub, "--insecure-ignore-tlog=true", "--allow-http-registry", reg.Host+"/charter/unsigned:v1"); r.code == 0 || !strings.Contains(string(r.stderr), "no signatures found") {
		t.Errorf("cosign verify of an unsigned push:\n%s", r)
	}
}

// TestOPAPullsPushedBundle: stock opa run --server with a service of type
// oci (plain HTTP to the loopback registry) downloads the pushed bundle,
// checks its signature with the public key, and answers from it.
func TestOPAPullsPushedBundle(t *testing.T) {
	opa := tool(t, "opa")
	f := newSigningFixture(t)
	reg, ref := pushFixture(t, f, "charter/anti-delos:v1")
	pubPEM, err := os.ReadFile(f.pub)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sigkeys.LoadPublic(f.pub)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := pub.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	kid, err := sigkeys.ID(pk)
	if err != nil {
		t.Fatal(err)
	}
	config := map[string]any{
		"services": map[string]any{"registry": map[string]any{"url": "http://" + reg.Host, "type": "oci"}},
		"bundles": map[string]any{"charter": map[string]any{
			"service": "registry", "resource": ref,
			"polling": map[string]any{"min_delay_seconds": 1, "max_delay_seconds": 2},
			"signing": map[string]any{"keyid": kid},
		}},
		"keys": map[string]any{kid: map[string]any{"algorithm": "ES256", "key": string(pubPEM)}},
	}
	data, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "opa.json")
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	base := startOPA(t, opa, "", "--config-file", cfg)
	resp, err := httpClient.Get(base + "/v1/data/charter/info/name")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"anti-delos"`) {
		t.Fatalf("opa does not answer from the bundle it pulled: %d %s", resp.StatusCode, body)
	}
}
