package webhook

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/charter-dev/charter/webhook/certs"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func writeCerts(t testing.TB, dir string) *certs.Bundle {
	t.Helper()
	b, err := certs.Generate(certs.Options{Service: "charter-webhook", Namespace: "charter"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(dir); err != nil {
		t.Fatal(err)
	}
	return b
}

// tlsServer serves h over real TLS with the reloader's certificate.
func tlsServer(t testing.TB, h http.Handler, r *CertReloader, minVersion uint16) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{GetCertificate: r.GetCertificate, MinVersion: minVersion}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func client(roots *x509.CertPool, keepAlive bool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: "charter-webhook.charter.svc"},
		DisableKeepAlives: !keepAlive,
	}}
}

func TestTLSServesAdmission(t *testing.T) {
	dir := t.TempDir()
	b := writeCerts(t, dir)
	r, err := NewCertReloader(filepath.Join(dir, certs.CertFile), filepath.Join(dir, certs.KeyFile), nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/charter.yaml")), Logger: quiet})
	srv := tlsServer(t, h, r, tls.VersionTLS12)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(b.CA)

	resp, err := client(roots, true).Post(srv.URL+"/validate", "application/json",
		bytes.NewReader(mustJSON(t, review("CREATE", podObject("default", privileged)))))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("status %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}

	// A client that does not trust the CA is refused.
	if _, err := client(x509.NewCertPool(), true).Get(srv.URL + "/validate"); err == nil {
		t.Error("an untrusting client completed a handshake")
	}
}

func TestTLSMinVersion(t *testing.T) {
	dir := t.TempDir()
	b := writeCerts(t, dir)
	r, err := NewCertReloader(filepath.Join(dir, certs.CertFile), filepath.Join(dir, certs.KeyFile), nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseTLSVersion("1.3")
	if err != nil {
		t.Fatal(err)
	}
	srv := tlsServer(t, http.NotFoundHandler(), r, v)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(b.CA)
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, ServerName: "localhost", MaxVersion: tls.VersionTLS12}}}
	if _, err := old.Get(srv.URL); err == nil {
		t.Error("a TLS 1.2 client was served with minimum version 1.3")
	}
	if _, err := ParseTLSVersion("1.0"); err == nil {
		t.Error("TLS 1.0 accepted as a minimum version")
	}
}

// TestTLSRotationUnderLoad rotates the key pair several times while clients
// (with and without keep-alive, so handshakes happen throughout) keep
// sending admission requests. No request may fail, and new handshakes must
// end up on the new certificate.
func TestTLSRotationUnderLoad(t *testing.T) {
	dir := t.TempDir()
	first := writeCerts(t, dir)
	m := NewMetrics(nil)
	r, err := NewCertReloader(filepath.Join(dir, certs.CertFile), filepath.Join(dir, certs.KeyFile), m, quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/charter.yaml")), Logger: quiet})
	srv := tlsServer(t, h, r, tls.VersionTLS12)

	// During a rotation the caBundle holds the old and the new CA, as an
	// operator (or cert-manager) publishes it before swapping the pair.
	const rotations = 4
	next := make([]*certs.Bundle, rotations)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(first.CA)
	for i := range next {
		if next[i], err = certs.Generate(certs.Options{Service: "charter-webhook", Namespace: "charter"}); err != nil {
			t.Fatal(err)
		}
		roots.AppendCertsFromPEM(next[i].CA)
	}

	body := mustJSON(t, review("CREATE", podObject("default", compliant)))
	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		c := client(roots, w%2 == 0)
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c.Post(srv.URL+"/validate", "application/json", bytes.NewReader(body))
				if err != nil {
					failed.Add(1)
					t.Errorf("request failed during rotation: %v", err)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					t.Errorf("status %d during rotation", resp.StatusCode)
					continue
				}
				ok.Add(1)
			}
		})
	}
	for i, b := range next {
		before := ok.Load()
		// Write the key and cert non-atomically, in two steps, to hit the
		// window where they do not match.
		if err := os.WriteFile(filepath.Join(dir, certs.CertFile), b.Cert, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = r.Reload() // may fail: cert and key do not match yet
		if err := os.WriteFile(filepath.Join(dir, certs.KeyFile), b.Key, 0o600); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool {
			_, _ = r.Reload()
			return servedBy(t, srv.URL, roots, b)
		})
		waitFor(t, func() bool { return ok.Load() > before+200 })
		t.Logf("rotation %d done, %d requests so far", i+1, ok.Load())
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed during %d rotations", failed.Load(), rotations)
	}
	if got := testutil.ToFloat64(m.TLSReloads); got < rotations {
		t.Errorf("charter_tls_reloads_total = %v, want at least %d", got, rotations)
	}
	t.Logf("%d requests, 0 failed, %v reloads, %v rejected half-written pairs",
		ok.Load(), testutil.ToFloat64(m.TLSReloads), testutil.ToFloat64(m.TLSReloadFailures))
}

// servedBy reports whether a fresh handshake gets the certificate in b.
func servedBy(t testing.TB, url string, roots *x509.CertPool, b *certs.Bundle) bool {
	t.Helper()
	conn, err := tls.Dial("tcp", url[len("https://"):], &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Errorf("handshake: %v", err)
		return false
	}
	defer conn.Close()
	want, err := tls.X509KeyPair(b.Cert, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(conn.ConnectionState().PeerCertificates[0].Raw, want.Certificate[0])
}
