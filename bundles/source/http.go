package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/charter-dev/charter/bundles"
)

// HTTP is a bundle served by an OPA bundle service: GET the URL, with
// If-None-Match carrying the last ETag; 304 means unchanged, 200 carries the
// bundle .tar.gz.
type HTTP struct {
	URL    string
	client *http.Client
}

func newHTTP(ref string, o Options) (*HTTP, error) {
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bundle %s: not a URL with a host", ref)
	}
	c := o.HTTPClient
	if c == nil {
		c = http.DefaultClient
	}
	return &HTTP{URL: ref, client: c}, nil
}

func (h *HTTP) String() string { return h.URL }

// Remote is true: an unreachable service is an outage.
func (h *HTTP) Remote() bool { return true }

// Fetch asks the service for the bundle unless its ETag is still since.
func (h *HTTP) Fetch(ctx context.Context, since string) (*Fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return nil, err
	}
	if etag, ok := strings.CutPrefix(since, "etag:"); ok {
		req.Header.Set("If-None-Match", etag)
	}
	req.Header.Set("Accept", "application/gzip, application/vnd.openpolicyagent.bundles")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil, ErrNotModified
	case http.StatusOK:
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, fmt.Errorf("fetch %s: %s", h.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, bundles.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", h.URL, err)
	}
	if len(body) > bundles.MaxSize {
		return nil, fmt.Errorf("fetch %s: bundle larger than %d bytes", h.URL, bundles.MaxSize)
	}
	fp := "sha256:" + digest(body)
	if etag := resp.Header.Get("ETag"); etag != "" {
		fp = "etag:" + etag
	}
	if fp == since {
		return nil, ErrNotModified
	}
	files, err := bundles.ReadTarGz(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", h.URL, err)
	}
	return &Fetched{Files: files, Fingerprint: fp}, nil
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
