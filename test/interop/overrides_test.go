package interop

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// overridesCharter has a council of two (threshold 2) and revokes one
// override id; its one article denies privileged containers.
const overridesCharter = `apiVersion: charter.dev/v1
kind: Charter
metadata: {name: shop}
spec:
  council: {threshold: 2, keys: [alice.pub, bob.pub], maxLifetime: 1h, revoked: [revoked-web]}
  articles:
  - id: NO-PRIV
    title: no privileged containers
    severity: high
    match: {kinds: [Pod]}
    foreach: containers
    violation: {path: container.securityContext.privileged, op: equals, value: true}
    message: "container {{container.name}} is privileged"
`

// overridesFixture is a signed bundle of overridesCharter, the council's
// keys and one outsider's (mallory), and a directory of overrides.
type overridesFixture struct {
	dir, charter, key, pub, tarball, bundleDir, overrides string
	// unrevoked is the same charter without council.revoked: charter
	// override request refuses a revoked id, so the revoked override is
	// requested against it (the signatures are over the charter's name).
	unrevoked string
}

func newOverridesFixture(t *testing.T) *overridesFixture {
	t.Helper()
	bin := cli(t)
	t.Setenv("COSIGN_PASSWORD", "")
	dir := t.TempDir()
	f := &overridesFixture{
		dir:       dir,
		charter:   filepath.Join(dir, "shop.yaml"),
		key:       filepath.Join(dir, "charter.key"),
		pub:       filepath.Join(dir, "charter.pub"),
		tarball:   filepath.Join(dir, "bundle.tar.gz"),
		bundleDir: filepath.Join(dir, "bundle"),
		overrides: filepath.Join(dir, "overrides"),
		unrevoked: filepath.Join(dir, "shop-unrevoked.yaml"),
	}
	for _, who := range []string{"charter", "alice", "bob", "mallory"} {
		must(t, bin, "keys", "generate", "--out", filepath.Join(dir, who))
	}
	if err := os.WriteFile(f.charter, []byte(overridesCharter), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.unrevoked, []byte(strings.Replace(overridesCharter, ", revoked: [revoked-web]", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, bin, "build", "--sign", "--key", f.key, "-o", f.tarball, f.charter)
	must(t, bin, "build", "--sign", "--key", f.key, "--format", "dir", "-o", f.bundleDir, f.charter)
	if err := os.Mkdir(f.overrides, 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

// request writes an override request for pod `name` in namespace ns into
// file (a path in the fixture's directory) and has signers approve it.
func (f *overridesFixture) request(t *testing.T, file, id, ns, name, notBefore, expires string, signers ...string) string {
	t.Helper()
	bin := cli(t)
	p := filepath.Join(f.dir, file)
	charter := f.charter
	if id == "revoked-web" {
		charter = f.unrevoked
	}
	args := []string{"override", "request", "--charter", charter, "--article", "NO-PRIV", "--namespace", ns,
		"--kind", "Pod", "--name", name, "--reason", "INC-7 " + id, "--requester", "sre", "--id", id, "--expires", expires, "-o", p}
	if notBefore != "" {
		args = append(args, "--not-before", notBefore)
	}
	must(t, bin, args...)
	for _, s := range signers {
		must(t, bin, "override", "approve", "--key", filepath.Join(f.dir, s+".key"), p)
	}
	return p
}

// privilegedPod is a Pod the charter denies, as a plain object.
func privilegedPod(ns, name string) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{"containers": []any{map[string]any{
			"name": "app", "image": "nginx", "securityContext": map[string]any{"privileged": true},
		}}},
	}
}

// forgedOverrides is data.charter_overrides as an attacker writes it: an
// override for every privileged pod, with no signature at all, in the
// verified wire format the compiled decision reads.
func forgedOverrides() map[string]any {
	return map[string]any{"forged": map[string]any{
		"id": "forged", "charter": "shop", "articles": []any{"NO-PRIV"},
		"scope":  map[string]any{"namespace": "default", "kind": "Pod", "name": "*"},
		"reason": "none", "requester": "mallory", "approvals": []any{},
		"notBeforeNs": 0, "expiresNs": int64(9e18),
	}}
}

// askDecision posts input to url and returns the decision, failing the test
// on any error.
func askDecision(t *testing.T, url string, input any) decisionDoc {
	t.Helper()
	raw, err := postDecision(url, input)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	var d decisionDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("decision %s: %v", raw, err)
	}
	d.raw = raw
	return d
}

// decisionDoc is the part of data.charter.decision these tests judge.
type decisionDoc struct {
	Allowed    bool `json:"allowed"`
	Violations []struct {
		Article string `json:"article"`
	} `json:"violations"`
	Overridden []struct {
		Article  string `json:"article"`
		Override string `json:"override"`
	} `json:"overridden"`
	raw json.RawMessage
}

// deniedUnlifted reports "" when d is a NO-PRIV denial no override lifted.
func (d decisionDoc) deniedUnlifted() string {
	if d.Allowed || len(d.Violations) != 1 || d.Violations[0].Article != "NO-PRIV" || len(d.Overridden) != 0 {
		return fmt.Sprintf("want NO-PRIV denied and nothing overridden, got %s", d.raw)
	}
	return ""
}

// liftedBy reports "" when d is allowed because override id lifted NO-PRIV.
func (d decisionDoc) liftedBy(id string) string {
	if !d.Allowed || len(d.Violations) != 0 || len(d.Overridden) != 1 || d.Overridden[0].Override != id {
		return fmt.Sprintf("want NO-PRIV lifted by override %s, got %s", id, d.raw)
	}
	return ""
}

// send makes one request of the data or policy API and returns its status
// and body.
func send(t *testing.T, method, url, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// injectionAttempts are the ways the REST API could write overrides into
// OPA's store; each must be refused because the bundle owns the root.
func injectionAttempts() []struct{ name, method, path, contentType, body, want string } {
	forged, _ := json.Marshal(forgedOverrides())
	root, _ := json.Marshal(map[string]any{"charter_overrides": forgedOverrides()})
	patch, _ := json.Marshal([]any{map[string]any{"op": "add", "path": "/charter_overrides", "value": forgedOverrides()}})
	entry, _ := json.Marshal(forgedOverrides()["forged"])
	return []struct{ name, method, path, contentType, body, want string }{
		{"PUT /v1/data/charter_overrides", "PUT", "/v1/data/charter_overrides", "application/json", string(forged), "path charter_overrides is owned by bundle"},
		{"PUT one forged entry", "PUT", "/v1/data/charter_overrides/forged", "application/json", string(entry), "path charter_overrides/forged is owned by bundle"},
		{"PUT the whole data document", "PUT", "/v1/data", "application/json", string(root), "can't write to document root with bundle roots configured"},
		{"PATCH /v1/data add", "PATCH", "/v1/data", "application/json-patch+json", string(patch), "path charter_overrides is owned by bundle"},
		{"PUT a policy in package charter_overrides", "PUT", "/v1/policies/forged", "text/plain",
			"package charter_overrides\n\nforged := {\"id\": \"forged\", \"articles\": [\"NO-PRIV\"], \"scope\": {\"namespace\": \"default\", \"kind\": \"Pod\", \"name\": \"*\"}, \"notBeforeNs\": 0, \"expiresNs\": 9000000000000000000}\n",
			"path charter_overrides is owned by bundle"},
	}
}

// refuseInjection makes every injection attempt against base and checks
// each is refused with its message and the decision on pod stays denied.
func refuseInjection(t *testing.T, base string) {
	pod := privilegedPod("default", "web-0")
	for _, a := range injectionAttempts() {
		t.Run("refused: "+a.name, func(t *testing.T) {
			code, body := send(t, a.method, base+a.path, a.contentType, a.body)
			if code != http.StatusBadRequest || !strings.Contains(body, a.want) {
				t.Errorf("%s %s: HTTP %d %s; want 400 with %q", a.method, a.path, code, body, a.want)
			}
			if msg := askDecision(t, base+"/v1/data/charter/decision", pod).deniedUnlifted(); msg != "" {
				t.Errorf("after %s: %s", a.name, msg)
			}
			if msg := askDecision(t, base+"/v1/data/charter/decision?metrics=true", pod).deniedUnlifted(); msg != "" {
				t.Errorf("after %s, OPA's own evaluation: %s", a.name, msg)
			}
		})
	}
}

// TestStockOPARefusesOverrideInjection: the bundle's manifest claims
// charter_overrides beside charter, so stock `opa run --server --bundle`
// refuses every write of overrides through its REST API (data PUT, PATCH,
// the root document, a policy in that package), and the decision stays a
// denial. `opa eval --bundle` with a crafted --data file erases the claimed
// root on activation, and stock conftest's deny never reads overrides: a
// crafted --data file lifts nothing there either.
func TestStockOPARefusesOverrideInjection(t *testing.T) {
	f := newOverridesFixture(t)
	opa := tool(t, "opa")
	var manifest struct {
		Roots []string `json:"roots"`
	}
	data, err := os.ReadFile(filepath.Join(f.bundleDir, ".manifest"))
	if err != nil || json.Unmarshal(data, &manifest) != nil || strings.Join(manifest.Roots, ",") != "charter,charter_overrides" {
		t.Errorf("bundle manifest roots = %v (%v), want charter and charter_overrides", manifest.Roots, err)
	}
	t.Run("opa run --server", func(t *testing.T) {
		refuseInjection(t, startOPA(t, opa, f.tarball, "--verification-key", f.pub, "--signing-alg", "ES256"))
	})

	evil := filepath.Join(f.dir, "evil.json")
	forged, _ := json.Marshal(map[string]any{"charter_overrides": forgedOverrides()})
	podFile := filepath.Join(f.dir, "pod.json")
	pod, _ := json.Marshal(privilegedPod("default", "web-0"))
	if os.WriteFile(evil, forged, 0o644) != nil || os.WriteFile(podFile, pod, 0o644) != nil {
		t.Fatal("write the forged data and the pod")
	}
	t.Run("opa eval --bundle with forged --data", func(t *testing.T) {
		for _, b := range []string{f.tarball, f.bundleDir} {
			out := must(t, opa, "eval", "--bundle", b, "--data", evil, "--input", podFile, "--format", "raw", "data.charter.decision")
			var d decisionDoc
			if err := json.Unmarshal(out, &d); err != nil {
				t.Fatalf("opa eval: %v\n%s", err, out)
			}
			d.raw = out
			if msg := d.deniedUnlifted(); msg != "" {
				t.Errorf("opa eval --bundle %s --data forged: %s", filepath.Base(b), msg)
			}
		}
	})
	t.Run("conftest test with forged --data", func(t *testing.T) {
		conftest := tool(t, "conftest")
		r := execute(t, nil, conftest, "test", "--policy", f.bundleDir, "--data", evil, "--namespace", "charter", "--no-color", podFile)
		if r.code != 1 || !strings.Contains(string(r.stdout), "NO-PRIV: container app is privileged") {
			t.Errorf("conftest with forged overrides in --data must still fail the pod: %s", r)
		}
	})
}
