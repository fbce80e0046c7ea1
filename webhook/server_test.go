package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/version"
	"github.com/charter-dev/charter/webhook/certs"
)

// TestServer starts the whole server on a real TLS listener, as `charter
// webhook serve` does, and checks every endpoint, then stops it.
func TestServer(t *testing.T) {
	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.jsonl")
	log, err := audit.Open(auditPath, audit.Options{Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	w := startWebhook(t, dir, Options{BundlePath: "testdata/charter.yaml", Audit: log, AuditSync: true})
	if code, _ := w.get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := w.get(t, "/readyz"); code != 200 || !strings.Contains(body, w.s.Holder().Current().Revision()) {
		t.Errorf("/readyz = %d %q", code, body)
	}
	if w.allowed(t) {
		t.Error("/validate allowed a privileged pod")
	}
	_, metrics := w.get(t, "/metrics")
	for _, m := range []string{
		`charter_admission_requests_total{decision="denied",kind="Pod",operation="CREATE"} 1`,
		`charter_admission_duration_seconds_bucket{decision="denied",le="0.0001"}`,
		`charter_bundle_info{revision="` + w.s.Holder().Current().Revision() + `"} 1`,
		"charter_evaluation_errors_total", "charter_bundle_activations_total 1", `charter_bundle_rejections_total{reason="invalid"} 0`, "charter_tls_reloads_total",
		"process_resident_memory_bytes",
		`charter_build_info{commit="` + version.Get().Commit + `",goversion="` + runtime.Version() + `"`,
	} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics has no %s", m)
		}
	}

	if err := w.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, auditPath)
	if len(lines) != 1 || !strings.Contains(lines[0], `"decision":"denied"`) {
		t.Errorf("audit log = %q", lines)
	}
	if r, err := audit.Verify(auditPath, audit.VerifyOptions{}); err != nil || r.Records != 1 || r.Latest == nil {
		t.Errorf("verify the webhook's audit log: %v %+v", err, r)
	}
}

func TestServerRefusesBrokenBundle(t *testing.T) {
	dir := t.TempDir()
	writeCerts(t, dir)
	_, err := New(context.Background(), Options{
		BundlePath: filepath.Join(dir, "missing.tar.gz"),
		CertFile:   filepath.Join(dir, certs.CertFile), KeyFile: filepath.Join(dir, certs.KeyFile), Logger: quiet,
	})
	if err == nil {
		t.Fatal("server built without a bundle")
	}
}

func TestReadyz(t *testing.T) {
	s := &Server{holder: NewHolder("testdata/charter.yaml", HolderOptions{Logger: quiet})}
	code := func() int {
		w := httptest.NewRecorder()
		s.readyz(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return w.Code
	}
	if got := code(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz before a bundle = %d, want 503", got)
	}
	if err := s.holder.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := code(); got != http.StatusOK {
		t.Errorf("/readyz with a bundle = %d, want 200", got)
	}
	s.stopping.Store(true)
	if got := code(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining = %d, want 503", got)
	}
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}
