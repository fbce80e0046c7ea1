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
	URL     string
	client  *http.Client
	maxBody int64
}

// maxRedirects is how many same-origin redirects a fetch follows.
const maxRedirects = 10

func newHTTP(ref string, o Options) (*HTTP, error) {
	u, err := url.Parse(ref)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bundle %s: not a URL with a host", ref)
	}
	c := http.DefaultClient
	if o.HTTPClient != nil {
		c = o.HTTPClient
	}
	own := *c // a copy: the caller's client keeps its own redirect policy
	own.CheckRedirect = sameOrigin(c.CheckRedirect)
	return &HTTP{URL: ref, client: &own, maxBody: bundles.MaxSize}, nil
}

// sameOrigin follows a redirect only to the scheme and host:port the
// request was sent to: the bundle comes from the service that was
// configured, not from wherever it points (nor over plain http).
func sameOrigin(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			return fmt.Errorf("the service redirected to %s://%s, another origin than %s://%s; refusing (configure the final URL if it is trusted)",
				req.URL.Scheme, req.URL.Host, first.Scheme, first.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

func (h *HTTP) String() string { return h.URL }

// Remote is true: an unreachable service is an outage.
func (h *HTTP) Remote() bool { return true }

// The fingerprint of an HTTP bundle is the SHA-256 of the body, then the
// service's ETag when it sent one: the ETag only makes the next request
// conditional; whether the bundle changed is decided by its bytes, so a
// service that sends a new body under a stale ETag is not ignored.
const etagMark = " etag:"

func fingerprintOf(body []byte, etag string) string {
	sum := sha256.Sum256(body)
	fp := "sha256:" + hex.EncodeToString(sum[:])
	if etag != "" {
		fp += etagMark + etag
	}
	return fp
}

// Fetch asks the service for the bundle unless its ETag is still since.
func (h *HTTP) Fetch(ctx context.Context, since string) (*Fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return nil, err
	}
	sinceDigest, etag, conditional := strings.Cut(since, etagMark)
	if conditional {
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
		if !conditional {
			return nil, fmt.Errorf("fetch %s: the service answered 304 Not Modified to a request without If-None-Match (there is nothing it could be unchanged from)", h.URL)
		}
		return nil, ErrNotModified
	case http.StatusOK:
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil, fmt.Errorf("fetch %s: %s", h.URL, resp.Status)
	}
	if resp.ContentLength > h.maxBody {
		return nil, fmt.Errorf("fetch %s: bundle of %d bytes is larger than the limit of %d", h.URL, resp.ContentLength, h.maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, h.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: the body broke off after %d bytes: %w", h.URL, len(body), err)
	}
	if int64(len(body)) > h.maxBody {
		return nil, fmt.Errorf("fetch %s: bundle larger than the limit of %d bytes", h.URL, h.maxBody)
	}
	fp := fingerprintOf(body, resp.Header.Get("ETag"))
	if d, _, _ := strings.Cut(fp, etagMark); since != "" && d == sinceDigest {
		return nil, ErrNotModified
	}
	files, err := bundles.ReadTarGz(bytes.NewReader(body))
	if err != nil {
		return nil, &FetchError{fp, fmt.Errorf("fetch %s: %w", h.URL, err)}
	}
	return &Fetched{Files: files, Fingerprint: fp}, nil
}
