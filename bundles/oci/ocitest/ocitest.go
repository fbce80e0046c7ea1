// Package ocitest starts a real OCI registry (go-containerregistry's
// pkg/registry, the distribution API in process) on loopback for tests,
// with a hook to serve altered blobs as a compromised registry would.
package ocitest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is a registry on 127.0.0.1, plain HTTP (as clients speak to
// loopback registries).
type Registry struct {
	*httptest.Server
	Host string // 127.0.0.1:PORT

	mu       sync.Mutex
	blobs    map[string][]byte // digest -> bytes served instead
	requests int
}

// Start starts a registry, closed when the test ends.
func Start(t testing.TB) *Registry {
	t.Helper()
	r := &Registry{blobs: map[string][]byte{}}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.requests++
		var swapped []byte
		if i := strings.LastIndex(req.URL.Path, "/blobs/"); i >= 0 && req.Method == http.MethodGet {
			swapped = r.blobs[req.URL.Path[i+len("/blobs/"):]]
		}
		r.mu.Unlock()
		if swapped != nil {
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(swapped)
			return
		}
		h.ServeHTTP(w, req)
	}))
	r.Host = strings.TrimPrefix(r.URL, "http://")
	t.Cleanup(r.Close)
	return r
}

// Ref is oci://HOST/repoTag.
func (r *Registry) Ref(repoTag string) string { return "oci://" + r.Host + "/" + repoTag }

// ServeBlob makes the registry answer GETs of the blob digest with data
// instead of the stored bytes: a tampered layer behind an unchanged manifest.
func (r *Registry) ServeBlob(digest string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blobs[digest] = data
}

// Requests is how many requests the registry answered.
func (r *Registry) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}
