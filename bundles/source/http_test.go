package source

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-dev/charter/engine"
	"github.com/prometheus/client_golang/prometheus"
)

// service is a bundle service on loopback TLS whose answer each test sets.
type service struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	handle   http.HandlerFunc
}

func newService(t *testing.T, h http.HandlerFunc) *service {
	t.Helper()
	s := &service{handle: h}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		h := s.handle
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *service) set(h http.HandlerFunc) {
	s.mu.Lock()
	s.handle = h
	s.mu.Unlock()
}

func (s *service) open(t *testing.T) *HTTP {
	t.Helper()
	src, err := Open(s.URL+"/bundles/b.tar.gz", Options{HTTPClient: s.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return src.(*HTTP)
}

// serveBody answers every request with body and etag ("" for none).
func serveBody(body []byte, etag string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(body)
	}
}

func tarGz(t *testing.T, serial int64) []byte {
	t.Helper()
	data, err := release(t, serial, "").TarGz()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func wantFetchError(t *testing.T, err error, msg string) {
	t.Helper()
	if err == nil || errors.Is(err, ErrNotModified) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("Fetch error = %v, want one saying %q", err, msg)
	}
}

func TestHTTPRefusesOversizedBodyByContentLength(t *testing.T) {
	body := tarGz(t, 1)
	s := newService(t, serveBody(body, ""))
	h := s.open(t)
	h.maxBody = int64(len(body)) - 1
	_, err := h.Fetch(context.Background(), "")
	wantFetchError(t, err, "larger than the limit of")
}

// Without a Content-Length (chunked), the limit holds while reading.
func TestHTTPRefusesOversizedStreamedBody(t *testing.T) {
	s := newService(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte{0x1f}, 4096)
		for range 64 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	h := s.open(t)
	h.maxBody = 10000
	_, err := h.Fetch(context.Background(), "")
	wantFetchError(t, err, "bundle larger than the limit of 10000 bytes")
}

// The service closes the connection before the promised Content-Length.
func TestHTTPRefusesBodyCutShort(t *testing.T) {
	body := tarGz(t, 1)
	s := newService(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(body)
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("no hijacker")
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	})
	_, err := s.open(t).Fetch(context.Background(), "")
	wantFetchError(t, err, "the body broke off after")
}

func TestHTTPRefusesTruncatedGzip(t *testing.T) {
	body := tarGz(t, 1)
	for _, tc := range []struct {
		name string
		body []byte
		msg  string
	}{
		{"cut in the middle", body[:len(body)/2], "unexpected EOF"},
		{"gzip trailer cut", body[:len(body)-8], "truncated or corrupt after the last entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t, serveBody(tc.body, `"v1"`))
			_, err := s.open(t).Fetch(context.Background(), "")
			wantFetchError(t, err, tc.msg)
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Fingerprint == "" {
				t.Errorf("error %T carries no fingerprint: the same broken body would be tried again every poll", err)
			}
		})
	}
}

func TestHTTPRefusesRedirectToAnotherHost(t *testing.T) {
	other := newService(t, serveBody(tarGz(t, 1), ""))
	s := newService(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/evil.tar.gz", http.StatusFound)
	})
	_, err := s.open(t).Fetch(context.Background(), "")
	wantFetchError(t, err, "another origin than https://"+strings.TrimPrefix(s.URL, "https://"))
	if n := other.requests.Load(); n != 0 {
		t.Errorf("the other host was asked %d times", n)
	}
}

func TestHTTPRefusesRedirectToPlainHTTP(t *testing.T) {
	s := newService(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/b.tar.gz", http.StatusMovedPermanently)
	})
	_, err := s.open(t).Fetch(context.Background(), "")
	wantFetchError(t, err, "the service redirected to http://")
}

func TestHTTPFollowsRedirectOnTheSameHost(t *testing.T) {
	body := tarGz(t, 1)
	s := newService(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/b.tar.gz" {
			http.Redirect(w, r, "/v2/b.tar.gz", http.StatusFound)
			return
		}
		w.Write(body)
	})
	f, err := s.open(t).Fetch(context.Background(), "")
	if err != nil || f.Files[".manifest"] == nil {
		t.Fatalf("Fetch = %v, %v", f, err)
	}
}

func TestHTTPRedirectLoopStops(t *testing.T) {
	s := newService(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	})
	_, err := s.open(t).Fetch(context.Background(), "")
	wantFetchError(t, err, "stopped after 10 redirects")
}

// A service that ignores If-None-Match and serves a new bundle under the
// old ETag: the new bundle is seen, since the bytes decide.
func TestHTTPNewBodyUnderStaleETag(t *testing.T) {
	first, second := tarGz(t, 1), tarGz(t, 2)
	s := newService(t, serveBody(first, `"v1"`))
	h := s.open(t)
	f, err := h.Fetch(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	s.set(serveBody(second, `"v1"`))
	g, err := h.Fetch(context.Background(), f.Fingerprint)
	if err != nil {
		t.Fatalf("a new bundle under a stale ETag: %v", err)
	}
	if bytes.Equal(g.Files[".manifest"], f.Files[".manifest"]) {
		t.Error("the old bundle came back")
	}
}

// The same body sent again (200, If-None-Match ignored) is not modified:
// it is not verified and activated again at every poll.
func TestHTTPSameBodyAgainIsNotModified(t *testing.T) {
	body := tarGz(t, 1)
	var sawConditional atomic.Bool
	s := newService(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			sawConditional.Store(true)
		}
		serveBody(body, `"v1"`)(w, r)
	})
	h := s.open(t)
	f, err := h.Fetch(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Fetch(context.Background(), f.Fingerprint); !errors.Is(err, ErrNotModified) {
		t.Fatalf("same body again: %v, want ErrNotModified", err)
	}
	if !sawConditional.Load() {
		t.Error("the second request did not carry If-None-Match")
	}
}

// A 304 to an unconditional request would make a first load "succeed"
// with nothing in force.
func TestHTTPNotModifiedWithoutIfNoneMatch(t *testing.T) {
	s := newService(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	_, err := s.open(t).Fetch(context.Background(), "")
	wantFetchError(t, err, "answered 304 Not Modified to a request without If-None-Match")
	r, _ := newReloader(t, s.open(t), nil, signedKeys(t))
	if err := r.Load(context.Background()); err == nil || r.Ready() {
		t.Fatalf("Load = %v, ready %v: a 304 on the first fetch must not pass for a load", err, r.Ready())
	}
}

func TestHTTPServerErrorIsAFetchFailure(t *testing.T) {
	s := newService(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, strings.Repeat("x", 1<<20), http.StatusServiceUnavailable)
	})
	_, err := s.open(t).Fetch(context.Background(), "")
	wantFetchError(t, err, "503 Service Unavailable")
}

// A failing service is polled less and less often, not at every interval:
// many replicas must not hammer it while it recovers.
func TestRunBacksOffAFailingService(t *testing.T) {
	s := newService(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	m := NewMetrics(prometheus.NewRegistry())
	r, err := New(Config[*engine.Engine]{Source: s.open(t), Activate: activateEngine, Metrics: m, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	const interval, maxBackoff, run = 5 * time.Millisecond, 80 * time.Millisecond, 600 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	r.Run(ctx, interval, maxBackoff)
	// Without backoff: ~120 requests. With it (x2 per failure up to 80 ms,
	// jitter 0.5-1.5): about 5+10+20+40 ms, then one per 40-120 ms.
	n := s.requests.Load()
	if n < 3 || n > 20 {
		t.Errorf("%d requests in %v at a %v interval; want backoff to keep it within 3..20", n, run, interval)
	}
}
