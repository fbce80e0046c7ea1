package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/source"
	"github.com/charter-dev/charter/keys/keystest"
	"github.com/charter-dev/charter/webhook/certs"
)

// bundleService is an OPA bundle service on loopback TLS: it serves one
// bundle with an ETag and answers 304 to a matching If-None-Match.
type bundleService struct {
	*httptest.Server
	mu          sync.Mutex
	body, etag  string
	requests    int
	notModified int
}

func newBundleService(t *testing.T) *bundleService {
	s := &bundleService{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests++
		if r.Header.Get("If-None-Match") == s.etag {
			s.notModified++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", s.etag)
		w.Header().Set("Content-Type", "application/gzip")
		_, _ = io.WriteString(w, s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve swaps the bundle and returns the request count to wait past.
func (s *bundleService) serve(data []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := sha256.Sum256(data)
	s.body, s.etag = string(data), `"`+hex.EncodeToString(sum[:8])+`"`
	return s.requests
}

func (s *bundleService) counts() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.notModified
}

const (
	hostNetworkCharter = "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: lax}\nspec:\n  articles:\n  - id: LAX-1\n    title: no host network\n    match: {kinds: [Pod]}\n    violation: {path: pod.spec.hostNetwork, op: equals, value: true}\n    message: host network\n"
)

// releaseBundle compiles a charter into a bundle .tar.gz signed with the
// test key, serial and expires (serial 0: unsigned); tamper edits a module
// after signing.
func releaseBundle(t *testing.T, charterPath string, serial int64, expires string, tamper bool) []byte {
	t.Helper()
	b, _, err := bundles.FromCharters([]string{charterPath})
	if err != nil {
		t.Fatal(err)
	}
	files := b.Files
	if serial != 0 {
		r := bundles.Release{Serial: serial}
		if expires != "" {
			if r.Expires, err = time.Parse(time.RFC3339, expires); err != nil {
				t.Fatal(err)
			}
		}
		if files, err = bundles.Sign(files, keystest.Shared(t), r); err != nil {
			t.Fatal(err)
		}
	}
	if tamper {
		out := bundles.Files{}
		for n, d := range files {
			out[n] = d
		}
		for n := range out {
			if strings.HasSuffix(n, ".rego") {
				out[n] = append(append([]byte(nil), out[n]...), "\n# tampered\n"...)
				break
			}
		}
		files = out
	}
	data, err := files.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type runningWebhook struct {
	s      *Server
	base   string
	c      *http.Client
	cancel func()
	done   chan error
}

func startWebhook(t *testing.T, dir string, o Options) *runningWebhook {
	t.Helper()
	b := writeCerts(t, dir)
	o.CertFile, o.KeyFile = filepath.Join(dir, certs.CertFile), filepath.Join(dir, certs.KeyFile)
	o.Logger, o.ReloadInterval = quiet, 20*time.Millisecond
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &runningWebhook{s: s, base: "https://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { w.done <- s.Serve(ctx, ln) }()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(b.CA)
	w.c = client(roots, true)
	t.Cleanup(func() { _ = w.stop() })
	return w
}

// stop ends Serve and returns its error; later calls return nil.
func (w *runningWebhook) stop() error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	w.cancel = nil
	return <-w.done
}

func (w *runningWebhook) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := w.c.Get(w.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// allowed sends a privileged pod's AdmissionReview over TLS.
func (w *runningWebhook) allowed(t *testing.T) bool {
	t.Helper()
	resp, err := w.c.Post(w.base+"/validate", "application/json", bytes.NewReader(mustJSON(t, review("CREATE", podObject("default", privileged)))))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rec := httptest.NewRecorder()
	rec.Code = resp.StatusCode
	_, _ = io.Copy(rec.Body, resp.Body)
	return decodeResponse(t, rec).Allowed
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWebhookFromBundleService serves a running webhook, through an OPA
// bundle service, a tampered, an unsigned, an older and an expired bundle:
// each is refused (its own reason in /metrics) and the good bundle keeps
// denying a privileged pod, checked by AdmissionReview. Then a newer good
// bundle goes into force, and a restart with the service down comes up
// ready on the state directory.
func TestWebhookFromBundleService(t *testing.T) {
	dir := t.TempDir()
	lax := filepath.Join(dir, "lax.yaml")
	if err := os.WriteFile(lax, []byte(hostNetworkCharter), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := newBundleService(t)
	svc.serve(releaseBundle(t, "testdata/charter.yaml", 10, "", false))
	state := filepath.Join(dir, "state")
	opts := Options{BundlePath: svc.URL + "/bundles/charter.tar.gz",
		Loading: Loading{Verify: source.Keys(keystest.Shared(t)), StateDir: state, HTTPClient: svc.Client(), MaxBackoff: 50 * time.Millisecond}}
	w := startWebhook(t, filepath.Join(dir, "a"), opts)
	if w.allowed(t) {
		t.Fatal("the good bundle does not deny a privileged pod")
	}
	good := w.s.Holder().Current().Revision()

	for _, tc := range []struct {
		name   string
		bundle []byte
		reason string
	}{
		{"tampered", releaseBundle(t, lax, 11, "", true), source.ReasonUnverified},
		{"unsigned", releaseBundle(t, lax, 0, "", false), source.ReasonUnverified},
		{"older", releaseBundle(t, lax, 9, "", false), source.ReasonRollback},
		{"expired", releaseBundle(t, lax, 12, "2020-01-01T00:00:00Z", false), source.ReasonExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc.serve(tc.bundle)
			metric := `charter_bundle_rejections_total{reason="` + tc.reason + `"} 1`
			eventually(t, "the "+tc.name+" bundle is refused", func() bool {
				_, m := w.get(t, "/metrics")
				return strings.Contains(m, metric)
			})
			if w.allowed(t) {
				t.Errorf("after the %s bundle a privileged pod is allowed", tc.name)
			}
			if rev := w.s.Holder().Current().Revision(); rev != good {
				t.Errorf("active revision %s, want the good %s", rev, good)
			}
		})
	}
	if _, notModified := svc.counts(); notModified == 0 {
		t.Error("the webhook never polled with If-None-Match (no 304 answered)")
	}

	svc.serve(releaseBundle(t, lax, 13, "", false))
	eventually(t, "a newer good bundle goes into force", func() bool { return w.allowed(t) })
	newer := w.s.Holder().Current().Revision()
	if err := w.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}

	svc.Close()
	restarted := startWebhook(t, filepath.Join(dir, "b"), opts)
	if code, body := restarted.get(t, "/readyz"); code != 200 || !strings.Contains(body, newer) {
		t.Fatalf("after a restart with the service down: /readyz = %d %q, want ready on %s", code, body, newer)
	}
	if !restarted.allowed(t) {
		t.Error("the restarted webhook does not enforce the persisted bundle")
	}
	if err := restarted.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}

	empty := startWebhook(t, filepath.Join(dir, "c"), Options{BundlePath: opts.BundlePath,
		Loading: Loading{Verify: source.Keys(keystest.Shared(t)), StateDir: filepath.Join(dir, "empty-state"), HTTPClient: opts.HTTPClient}})
	if code, _ := empty.get(t, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("with no good bundle anywhere /readyz = %d, want 503", code)
	}
}
