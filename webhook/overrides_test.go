package webhook

import (
	"bytes"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/internal/promtest"
	"github.com/charter-dev/charter/overrides/overridestest"
	admissionv1 "k8s.io/api/admission/v1"
)

// webPod is a privileged pod web-1 in namespace shop: AD-001 denies it.
func webPod() map[string]any {
	p := podObject("shop", privileged)
	p["metadata"].(map[string]any)["name"] = "web-1"
	return p
}

// send posts one review over TLS and decodes the response.
func (w *runningWebhook) send(t *testing.T, body map[string]any) *admissionv1.AdmissionResponse {
	t.Helper()
	resp, err := w.c.Post(w.base+"/validate", "application/json", bytes.NewReader(mustJSON(t, body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rec := httptest.NewRecorder()
	rec.Code = resp.StatusCode
	_, _ = io.Copy(rec.Body, resp.Body)
	return decodeResponse(t, rec)
}

// metric is the value of one sample of /metrics (-1 when absent).
func (w *runningWebhook) metric(t *testing.T, sample string) float64 {
	t.Helper()
	_, body := w.get(t, "/metrics")
	v, err := promtest.Sample(body, sample)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOverridesDirHotReload runs the whole server with --overrides DIR and
// changes the directory under it: overrides added, made invalid, fixed,
// removed, expiring and a directory that goes away each take effect without
// a restart, and a bad file is reported and lifts nothing.
func TestOverridesDirHotReload(t *testing.T) {
	dir := t.TempDir()
	c := overridestest.New(t, dir, overridestest.Options{})
	ovDir := filepath.Join(dir, "overrides")
	if err := os.Mkdir(ovDir, 0o755); err != nil {
		t.Fatal(err)
	}
	sink := &memorySink{}
	w := startWebhook(t, dir, Options{BundlePath: c.Charter, OverridesDir: ovDir, Audit: sink, AuditSync: true})
	create := review("CREATE", webPod())
	allowed := func() bool { return w.send(t, create).Allowed }
	denied := func() bool { return !allowed() }

	if allowed() {
		t.Fatal("a privileged pod was admitted without an override")
	}
	if got := w.metric(t, "charter_overrides_active"); got != 0 {
		t.Errorf("charter_overrides_active = %v before any override, want 0", got)
	}

	valid := filepath.Join(ovDir, "debug-web.yaml")
	overridestest.Write(t, valid, c.Override(t, overridestest.Request{ID: "debug-web"}, "alice", "bob"))
	eventually(t, "a 2-of-3 override in the directory admits the pod", allowed)
	r := w.send(t, create)
	if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], "[AD-001] allowed by override debug-web: container app is privileged") {
		t.Errorf("warnings = %q", r.Warnings)
	}
	if got := r.AuditAnnotations[OverrideAnnotation]; got != "AD-001 by override debug-web" {
		t.Errorf("audit annotation %s = %q", OverrideAnnotation, got)
	}
	if rec := sink.last(t); rec.Override != "debug-web" || rec.Decision != "allowed" || len(rec.Articles) != 1 || rec.Articles[0].Override != "debug-web" {
		t.Errorf("audit record = %+v, want allowed naming override debug-web", rec)
	}
	if got := w.metric(t, "charter_overrides_active"); got != 1 {
		t.Errorf("charter_overrides_active = %v, want 1", got)
	}

	// One request lifts one denial, once, even for an UPDATE whose old
	// object is decided too.
	lifted := `charter_override_lifted_total{article="AD-001"}`
	before := w.metric(t, lifted)
	update := review("UPDATE", webPod(), func(req map[string]any) { req["oldObject"] = webPod() })
	if r := w.send(t, update); !r.Allowed {
		t.Errorf("UPDATE under the override denied: %v", r.Result)
	}
	if got := w.metric(t, lifted); got != before+1 {
		t.Errorf("%s went from %v to %v for one request, want +1", lifted, before, got)
	}

	// A file that does not parse is counted, and lifts nothing.
	overridestest.WriteFile(t, filepath.Join(ovDir, "broken.yaml"), []byte("apiVersion: charter.dev/v1\nkind: Override\nspec: [\n"))
	eventually(t, "the broken file is counted as malformed", func() bool {
		return w.metric(t, `charter_overrides_ignored{reason="malformed"}`) == 1
	})
	if !allowed() {
		t.Error("a broken file next to a valid override revoked it")
	}

	// The same override with one approval left: denied again, counted.
	overridestest.Write(t, valid, c.Override(t, overridestest.Request{ID: "debug-web"}, "alice"))
	eventually(t, "an under-approved override no longer admits", denied)
	if got := w.metric(t, `charter_overrides_ignored{reason="approvals"}`); got != 1 {
		t.Errorf(`charter_overrides_ignored{reason="approvals"} = %v, want 1`, got)
	}

	// Approved again, then removed.
	overridestest.Write(t, valid, c.Override(t, overridestest.Request{ID: "debug-web"}, "bob", "carol"))
	eventually(t, "the re-approved override admits", allowed)
	if err := os.Remove(valid); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a removed override no longer admits", denied)

	// An override expiring in seconds: admitted, then, with no request in
	// between, counted as expired, and denied.
	short := filepath.Join(ovDir, "short.yaml")
	overridestest.Write(t, short, c.Override(t, overridestest.Request{ID: "short", Expires: time.Now().Add(2 * time.Second)}, "alice", "carol"))
	eventually(t, "the short override admits", allowed)
	eventually(t, "the short override is counted as expired without a request", func() bool {
		_, body := w.get(t, "/metrics")
		return strings.Contains(body, `charter_overrides_ignored{reason="expired"} 1`) && strings.Contains(body, "charter_overrides_active 0")
	})
	if allowed() {
		t.Error("an expired override still admits")
	}

	// A directory that goes away lifts nothing.
	overridestest.Write(t, valid, c.Override(t, overridestest.Request{ID: "debug-web"}, "alice", "bob"))
	eventually(t, "the override admits again", allowed)
	if err := os.RemoveAll(ovDir); err != nil {
		t.Fatal(err)
	}
	eventually(t, "overrides of a directory that went away no longer admit", denied)
}

// TestOverridesDirMissing: the webhook does not start on a directory that
// is not there (a typo), rather than run without the overrides meant.
func TestOverridesDirMissing(t *testing.T) {
	dir := t.TempDir()
	c := overridestest.New(t, dir, overridestest.Options{})
	writeCerts(t, dir)
	_, err := New(t.Context(), Options{BundlePath: c.Charter, OverridesDir: filepath.Join(dir, "nope"), Logger: quiet,
		CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")})
	if err == nil || !strings.Contains(err.Error(), "overrides directory") {
		t.Fatalf("New with a missing overrides directory: %v", err)
	}
}
