package overridestest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/keys"
	"github.com/charter-dev/charter/overrides"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"sigs.k8s.io/yaml"
)

// Options shape the council's charter; zero fields take the defaults.
type Options struct {
	Name        string   // the charter's metadata.name: "shop"
	Article     string   // its one article, which denies privileged containers: "AD-001"
	Members     []string // the council, one key each: alice, bob, carol
	Threshold   int      // distinct approvals needed: 2
	MaxLifetime string   // longest override: "1h"
	Revoked     []string // override ids the charter revokes
	// KeyFiles also writes each member's private key as DIR/<member>.key,
	// cosign-encrypted with an empty password, for `charter override
	// approve --key` (slower: scrypt).
	KeyFiles bool
}

// Council is a charter with a council, written into Dir: the charter file
// and each member's public key (<member>.pub, as the charter lists it).
type Council struct {
	Dir     string // where the charter and the keys are
	Charter string // the charter file
	Name    string // the charter's name
	Article string // its article
	signers map[string]signature.SignerVerifier
}

// New writes the charter and its council's keys into dir.
func New(t testing.TB, dir string, o Options) *Council {
	t.Helper()
	if o.Name == "" {
		o.Name = "shop"
	}
	if o.Article == "" {
		o.Article = "AD-001"
	}
	if o.Members == nil {
		o.Members = []string{"alice", "bob", "carol"}
	}
	if o.Threshold == 0 {
		o.Threshold = 2
	}
	if o.MaxLifetime == "" {
		o.MaxLifetime = "1h"
	}
	c := &Council{Dir: dir, Charter: filepath.Join(dir, "charter.yaml"), Name: o.Name, Article: o.Article,
		signers: map[string]signature.SignerVerifier{}}
	pubs := make([]string, len(o.Members))
	for i, m := range o.Members {
		c.signers[m] = newMember(t, filepath.Join(dir, m), o.KeyFiles)
		pubs[i] = m + ".pub"
	}
	revoked := ""
	if len(o.Revoked) > 0 {
		revoked = ", revoked: [" + strings.Join(o.Revoked, ", ") + "]"
	}
	charter := fmt.Sprintf(`apiVersion: charter.dev/v1
kind: Charter
metadata: {name: %s, version: 1.0.0}
spec:
  defaults: {action: deny, severity: high}
  council: {threshold: %d, maxLifetime: %s, keys: [%s]%s}
  articles:
  - id: %s
    title: Hosts never run privileged
    match: {kinds: [Pod]}
    foreach: containers
    violation:
      any:
      - {path: container.securityContext.privileged, op: equals, value: true}
    message: "container {{container.name}} is privileged; remove securityContext.privileged"
`, o.Name, o.Threshold, o.MaxLifetime, strings.Join(pubs, ", "), revoked, o.Article)
	WriteFile(t, c.Charter, []byte(charter))
	return c
}

// newMember makes a member's key and writes prefix.pub (and prefix.key).
func newMember(t testing.TB, prefix string, keyFile bool) signature.SignerVerifier {
	t.Helper()
	if keyFile {
		pair, err := keys.Generate(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := keys.WriteFiles(prefix, pair); err != nil {
			t.Fatal(err)
		}
		sv, err := keys.ParsePrivate(pair.Private, []byte{})
		if err != nil {
			t.Fatal(err)
		}
		return sv
	}
	// The signer keys.ParsePrivate makes of a cosign key, without scrypt.
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, prefix+".pub", pem)
	return sv
}

// Signer is a member's key.
func (c *Council) Signer(t testing.TB, member string) signature.SignerVerifier {
	t.Helper()
	s, ok := c.signers[member]
	if !ok {
		t.Fatalf("%s is not a member of the council", member)
	}
	return s
}

// Request is an override to sign; zero fields take the defaults.
type Request struct {
	ID        string          // the override id: "debug-web"
	Articles  []string        // the council's article
	Scope     overrides.Scope // Pods web-* in namespace "shop"
	NotBefore time.Time       // a minute ago, to the second
	Expires   time.Time       // 30 minutes after NotBefore
}

// Override is r for the council's charter, signed by the members named.
func (c *Council) Override(t testing.TB, r Request, signers ...string) *overrides.Document {
	t.Helper()
	if r.ID == "" {
		r.ID = "debug-web"
	}
	if r.Articles == nil {
		r.Articles = []string{c.Article}
	}
	if r.Scope == (overrides.Scope{}) {
		r.Scope = overrides.Scope{Namespace: "shop", Kind: "Pod", Name: "web-*"}
	}
	if r.NotBefore.IsZero() {
		r.NotBefore = time.Now().Add(-time.Minute).Truncate(time.Second)
	}
	if r.Expires.IsZero() {
		r.Expires = r.NotBefore.Add(30 * time.Minute)
	}
	d := &overrides.Document{
		APIVersion: overrides.APIVersion, Kind: overrides.Kind, Metadata: overrides.Metadata{Name: r.ID},
		Spec: overrides.Spec{
			Charter: c.Name, Articles: r.Articles, Scope: r.Scope,
			Reason: "INC-42: debug a crash loop", Requester: "sre@example.com",
			NotBefore: r.NotBefore.UTC(), Expires: r.Expires.UTC(),
		},
	}
	for _, m := range signers {
		if err := overrides.Sign(d, c.Signer(t, m)); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// WriteFile writes data to path and renames it into place, as kubelet
// updates a ConfigMap volume, so a watch never reads half a file.
func WriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// Write writes d to path as `charter override approve` does (YAML).
func Write(t testing.TB, path string, d *overrides.Document) {
	t.Helper()
	data, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, path, data)
}

// Object is d as the Override object `kubectl apply -f` makes of its file
// (an unstructured object's content).
func Object(t testing.TB, d *overrides.Document) map[string]any {
	t.Helper()
	data, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}
