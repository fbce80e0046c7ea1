package agent

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/keys"
	"github.com/charter-dev/charter/overrides"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

var t0 = time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)

func verified(id string, articles []string, scope overrides.Scope, from, to time.Time) *overrides.Verified {
	return &overrides.Verified{ID: id, Charter: "shop", Articles: articles, Scope: scope, NotBeforeNs: from.UnixNano(), ExpiresNs: to.UnixNano()}
}

func TestScopeMatchesPod(t *testing.T) {
	pod := PodInfo{Namespace: "payments", Name: "api-7f9c4-x2x", UID: "u"}
	labelled := pod
	labelled.Labels = map[string]string{"app": "api"}
	sel := &overrides.LabelSelector{MatchLabels: map[string]string{"app": "api"}}
	for _, tc := range []struct {
		name  string
		scope overrides.Scope
		pod   PodInfo
		want  bool
	}{
		{"name glob", overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-*"}, pod, true},
		{"exact name", overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-7f9c4-x2x"}, pod, true},
		{"other namespace", overrides.Scope{Namespace: "shop", Kind: "Pod", Name: "api-*"}, pod, false},
		{"other name", overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "web-*"}, pod, false},
		{"workload kind does not cover pods at runtime", overrides.Scope{Namespace: "payments", Kind: "Deployment", Name: "api-*"}, pod, false},
		{"* does not cross a dot (OPA glob.match)", overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api*"}, PodInfo{Namespace: "payments", Name: "api.v2"}, false},
		{"? is one character", overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-7f9c4-x?x"}, pod, true},
		{"selector, labels unknown: fail closed", overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-*", LabelSelector: sel}, pod, false},
		{"selector, labels match", overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-*", LabelSelector: sel}, labelled, true},
		{"selector, label differs", overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-*", LabelSelector: &overrides.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}, labelled, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ScopeMatchesPod(tc.scope, tc.pod); got != tc.want {
				t.Fatalf("ScopeMatchesPod = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExemptions(t *testing.T) {
	rules := []Rule{{Article: "AD-017"}, {Article: "AD-020"}}
	scope := overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-*"}
	api := PodCgroup{ID: 11, Path: "/cg/api", Pod: PodInfo{Namespace: "payments", Name: "api-1", UID: "a"}}
	web := PodCgroup{ID: 12, Path: "/cg/web", Pod: PodInfo{Namespace: "payments", Name: "web-1", UID: "w"}}
	pods := []PodCgroup{api, web}
	shell := verified("debug-shell", []string{"AD-020", "AD-001"}, scope, t0, t0.Add(30*time.Minute))
	later := verified("later", []string{"AD-017"}, scope, t0.Add(time.Hour), t0.Add(2*time.Hour))

	// Active: only the matching pod, only the runtime article (AD-001 has no rule).
	grants, next := Exemptions(rules, []*overrides.Verified{shell, later}, pods, t0.Add(time.Minute))
	if len(grants) != 1 || grants[0].CgroupID != 11 || grants[0].Rule != 2 || grants[0].Override != "debug-shell" || grants[0].Article != "AD-020" {
		t.Fatalf("grants = %+v", grants)
	}
	if !next.Equal(t0.Add(30 * time.Minute)) {
		t.Fatalf("next change %v, want the expiry %v", next, t0.Add(30*time.Minute))
	}
	// At expiry (exclusive) nothing is exempt; the next change is the later override's start.
	grants, next = Exemptions(rules, []*overrides.Verified{shell, later}, pods, t0.Add(30*time.Minute))
	if len(grants) != 0 {
		t.Fatalf("at expiry: grants = %+v", grants)
	}
	if !next.Equal(t0.Add(time.Hour)) {
		t.Fatalf("next change %v, want %v", next, t0.Add(time.Hour))
	}
	// Before notBefore nothing is exempt.
	if grants, _ := Exemptions(rules, []*overrides.Verified{later}, pods, t0); len(grants) != 0 {
		t.Fatalf("before notBefore: %+v", grants)
	}
	// All past: no next change.
	if _, next := Exemptions(rules, []*overrides.Verified{shell}, pods, t0.Add(3*time.Hour)); !next.IsZero() {
		t.Fatalf("next change %v after every override ended", next)
	}
}

func TestParsePodLogDir(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want PodInfo
	}{
		{"payments_api-1_0a1b2c3d-0000-1111-2222-333344445555", true, PodInfo{Namespace: "payments", Name: "api-1", UID: "0a1b2c3d-0000-1111-2222-333344445555"}},
		{"payments_api-1", false, PodInfo{}},
		{"payments_api_1_0a1b2c3d-0000-1111-2222-333344445555", false, PodInfo{}},
		{"_api-1_0a1b2c3d-0000-1111-2222-333344445555", false, PodInfo{}},
		{"payments_api-1_short", false, PodInfo{}},
	} {
		got, ok := ParsePodLogDir(tc.in)
		if ok != tc.ok || got.Namespace != tc.want.Namespace || got.Name != tc.want.Name || got.UID != tc.want.UID {
			t.Errorf("ParsePodLogDir(%q) = %+v, %v", tc.in, got, ok)
		}
	}
}

// TestLoadOverridesVerifies: the directory loader uses overrides' Verify:
// a valid override counts, a not-yet-valid one is verified at its start,
// and expired, under-approved and malformed files are ignored with the
// check that failed.
func TestLoadOverridesVerifies(t *testing.T) {
	var signers []signature.SignerVerifier
	var council []compiler.CouncilKey
	for _, name := range []string{"alice.pub", "bob.pub"} {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		sv, _ := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
		pem, _ := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
		id, _ := keys.ID(priv.Public())
		signers, council = append(signers, sv), append(council, compiler.CouncilKey{Name: name, ID: id, PublicKey: string(pem)})
	}
	v, err := overrides.NewVerifier(compiler.Info{
		Name: "shop", Articles: map[string]compiler.ArticleInfo{"AD-020": {}},
		Council: &compiler.CouncilInfo{Threshold: 2, Keys: council, MaxLifetime: "24h"},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, from, to time.Time, nsig int) {
		d := &overrides.Document{APIVersion: overrides.APIVersion, Kind: overrides.Kind, Metadata: overrides.Metadata{Name: name},
			Spec: overrides.Spec{Charter: "shop", Articles: []string{"AD-020"}, Scope: overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-*"},
				Reason: "debug", Requester: "sre", NotBefore: from, Expires: to}}
		for _, s := range signers[:nsig] {
			if err := overrides.Sign(d, s); err != nil {
				t.Fatal(err)
			}
		}
		data, _ := d.Marshal()
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("valid", t0, t0.Add(time.Hour), 2)
	write("pending", t0.Add(2*time.Hour), t0.Add(3*time.Hour), 2)
	write("expired", t0.Add(-2*time.Hour), t0.Add(-time.Hour), 2)
	write("one-approval", t0, t0.Add(time.Hour), 1)
	os.WriteFile(filepath.Join(dir, "garbage.yaml"), []byte("kind: [\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not an override"), 0o644)

	set, ignored, err := LoadOverrides(dir, v, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range set {
		ids = append(ids, o.ID)
	}
	if len(ids) != 2 || ids[0] != "pending" || ids[1] != "valid" {
		t.Fatalf("verified %v, want [pending valid]", ids)
	}
	want := map[string]overrides.Check{"expired.yaml": overrides.CheckExpired, "one-approval.yaml": overrides.CheckApprovals, "garbage.yaml": overrides.CheckMalformed}
	if len(ignored) != len(want) {
		t.Fatalf("ignored %+v", ignored)
	}
	for _, ig := range ignored {
		if c := want[filepath.Base(ig.File)]; c != ig.Check {
			t.Errorf("%s ignored by check %q, want %q (%v)", ig.File, ig.Check, c, ig.Err)
		}
	}
	if _, _, err := LoadOverrides(filepath.Join(dir, "missing"), v, t0); err == nil {
		t.Fatal("a missing overrides directory is not an error")
	}
}
