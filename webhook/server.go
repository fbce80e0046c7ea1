package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/version"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure a Server; `charter webhook serve` fills them from flags.
type Options struct {
	Listen            string // ":8443" when empty
	BundlePath        string
	CertFile, KeyFile string
	MinTLSVersion     string     // "1.2" (default) or "1.3"
	Audit             audit.Sink // where decisions go (audit.Discard when nil); the caller closes it
	AuditSync         bool       // answer only once the decision is in the audit log
	FailOpen          bool
	ExcludeNamespaces []string      // DefaultExcludeNamespaces when nil
	Timeout           time.Duration // evaluation deadline, DefaultTimeout when zero
	DecodeMemory      int64         // decoding budget of the whole server (DecodeBudget), DefaultDecodeMemory when zero
	ReloadInterval    time.Duration // bundle and certificate poll, 2 s when zero
	ShutdownTimeout   time.Duration // drain time on stop, 10 s when zero
	Logger            *slog.Logger
	Loading           // signature keys, state directory, backoff (bundle.go)
	// OverridesDir holds Override documents, read again every
	// ReloadInterval; OverrideObjects watches the cluster's Override objects
	// through Informers. Either turns overrides on (overrides.go).
	OverridesDir    string
	OverrideObjects bool
	Informers       *Informers // the shared cluster watches (informers.go); nil: none
	// ClusterData is the cache bundles with cluster queries read
	// (cluster.go); nil: such bundles are refused.
	ClusterData *ClusterData
}

// Server is the webhook's HTTPS server with everything around the handler.
type Server struct {
	opts     Options
	log      *slog.Logger
	registry *prometheus.Registry
	metrics  *Metrics
	holder   *Holder
	certs    *CertReloader
	handler  *Handler
	ovs      *Overrides // nil: overrides are off
	tls      *tls.Config
	stopping atomic.Bool
}

// New loads the bundle and the key pair and builds the server; it does not
// listen yet. A bundle that does not load is an error here: the webhook never
// starts without a policy.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Listen == "" {
		o.Listen = ":8443"
	}
	if o.ExcludeNamespaces == nil {
		o.ExcludeNamespaces = DefaultExcludeNamespaces
	}
	if o.ReloadInterval <= 0 {
		o.ReloadInterval = 2 * time.Second
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BundlePath == "" {
		return nil, errors.New("webhook: a bundle is required")
	}
	if o.CertFile == "" || o.KeyFile == "" {
		return nil, errors.New("webhook: a TLS certificate and key are required")
	}
	minTLS, err := ParseTLSVersion(o.MinTLSVersion)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, log: o.Logger, registry: prometheus.NewRegistry()}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		version.BuildInfoMetric(version.Get()))
	s.metrics = NewMetrics(s.registry)

	s.holder = NewHolder(o.BundlePath, HolderOptions{Loading: o.Loading, Metrics: s.metrics, Registry: s.registry, Logger: s.log, Cluster: o.ClusterData})
	// A remote source that is down, with no good bundle kept, leaves the
	// server up and not ready until it comes back; a local one is a mistake.
	if err := s.holder.Load(ctx); err != nil && !s.holder.Ready() && !s.holder.Remote() {
		return nil, err
	}
	if s.certs, err = NewCertReloader(o.CertFile, o.KeyFile, s.metrics, s.log); err != nil {
		return nil, err
	}
	src, err := s.withOverrides(s.holder)
	if err != nil {
		return nil, err
	}
	s.handler = NewHandler(HandlerOptions{
		Source: src, FailOpen: o.FailOpen, Timeout: o.Timeout, ExcludeNamespaces: o.ExcludeNamespaces,
		DecodeBudget: NewDecodeBudget(o.DecodeMemory),
		Audit:        o.Audit, AuditSync: o.AuditSync, Metrics: s.metrics, Logger: s.log,
	})
	s.tls = &tls.Config{MinVersion: minTLS, GetCertificate: s.certs.GetCertificate}
	return s, nil
}

// Holder is the server's bundle holder.
func (s *Server) Holder() *Holder { return s.holder }

// Certs is the server's certificate reloader.
func (s *Server) Certs() *CertReloader { return s.certs }

// Metrics are the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// TLSConfig is the server's TLS configuration (for httptest and tests).
func (s *Server) TLSConfig() *tls.Config { return s.tls.Clone() }

// Handler routes /validate, /healthz, /readyz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/validate", s.handler)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", s.readyz)
	mux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	return mux
}

// readyz is ready while a bundle is active and the server is not draining.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	switch {
	case s.stopping.Load():
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	case !s.holder.Ready():
		http.Error(w, "no bundle loaded", http.StatusServiceUnavailable)
	case len(s.opts.Informers.Pending()) > 0:
		http.Error(w, "cluster watches not synced: "+strings.Join(s.opts.Informers.Pending(), ", "), http.StatusServiceUnavailable)
	default:
		_, _ = w.Write([]byte("ok " + s.holder.Current().Revision() + "\n"))
	}
}

// ListenAndServe listens on Options.Listen and serves until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves HTTPS on ln until ctx is done, watching the bundle and the key
// pair meanwhile, then drains in-flight requests.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.tls,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.holder.Watch(wctx, s.opts.ReloadInterval)
	go s.certs.Watch(wctx, s.opts.ReloadInterval)
	s.startOverrides(wctx)

	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	revision := "none (not ready)"
	if d := s.holder.Current(); d != nil {
		revision = d.Revision()
	}
	s.log.Info("webhook serving", "version", version.Get().String(), "addr", ln.Addr().String(), "revision", revision,
		"failOpen", s.opts.FailOpen, "exclude", s.opts.ExcludeNamespaces)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.log.Info("webhook stopped")
	return err
}
