package webhook

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charter-dev/charter/internal/fingerprint"
)

// CertReloader serves the certificate in a key pair on disk and picks up a
// new pair when the files change. New handshakes get the new certificate,
// established connections keep theirs, so rotation fails no request. A pair
// that does not load (a cert written before its key, say) is counted and
// retried when the files change again; the previous pair keeps serving.
type CertReloader struct {
	certFile, keyFile string
	metrics           *Metrics
	log               *slog.Logger

	cert atomic.Pointer[tls.Certificate]
	mu   sync.Mutex
	seen string // fingerprint.Files of the pair
}

// NewCertReloader loads the pair once; it fails if the pair does not load.
func NewCertReloader(certFile, keyFile string, m *Metrics, log *slog.Logger) (*CertReloader, error) {
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.Default()
	}
	c := &CertReloader{certFile: certFile, keyFile: keyFile, metrics: m, log: log}
	c.seen = fingerprint.Files([]string{certFile, keyFile}, nil)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair: %w", err)
	}
	c.cert.Store(&pair)
	return c, nil
}

// GetCertificate is for tls.Config.GetCertificate.
func (c *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cert.Load(), nil
}

// Reload loads the pair if either file changed, and reports whether the
// served certificate changed.
func (c *CertReloader) Reload() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := fingerprint.Files([]string{c.certFile, c.keyFile}, nil)
	if st == c.seen {
		return false, nil
	}
	c.seen = st
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		c.metrics.TLSReloadFailures.Inc()
		c.log.Error("TLS key pair rejected; the previous certificate keeps serving", "cert", c.certFile, "err", err)
		return false, fmt.Errorf("reload TLS key pair: %w", err)
	}
	c.cert.Store(&pair)
	c.metrics.TLSReloads.Inc()
	c.log.Info("TLS certificate reloaded", "cert", c.certFile)
	return true, nil
}

// Watch polls the files every interval until ctx is done.
func (c *CertReloader) Watch(ctx context.Context, interval time.Duration) {
	poll(ctx, interval, func() { _, _ = c.Reload() })
}

// ParseTLSVersion maps "1.2" and "1.3" to crypto/tls versions.
func ParseTLSVersion(v string) (uint16, error) {
	switch v {
	case "", "1.2", "VersionTLS12":
		return tls.VersionTLS12, nil
	case "1.3", "VersionTLS13":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("TLS version %q is not supported; use 1.2 or 1.3", v)
}
