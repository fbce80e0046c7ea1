package source

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/charter-dev/charter/bundles"
)

// Release is what the Reloader judges before activation: the bundle's serial
// (refuse lower than the active one) and expiry (refuse once passed).
type Release struct {
	Serial   int64
	Expires  time.Time // zero: never
	KeyID    string    // the key that signed; "" when unverified
	Verified bool
}

// Expired reports whether the release's expiry has passed at now.
func (r Release) Expired(now time.Time) bool {
	return !r.Expires.IsZero() && !now.Before(r.Expires)
}

// Verifier checks a bundle's signature before it is activated and returns
// the release it vouches for. An error means the bundle must not enforce.
type Verifier interface {
	Verify(files bundles.Files) (Release, error)
}

// ManifestRelease reads metadata.serial and metadata.expires from the
// manifest, unverified: what enforces when no key is configured. A bundle
// without a serial has serial 0.
func ManifestRelease(files bundles.Files) (Release, error) {
	var m struct {
		Metadata struct {
			Serial  json.RawMessage `json:"serial"`
			Expires string          `json:"expires"`
		} `json:"metadata"`
	}
	data, ok := files[".manifest"]
	if !ok {
		return Release{}, fmt.Errorf("bundle has no .manifest")
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return Release{}, fmt.Errorf("bad .manifest: %w", err)
	}
	var r Release
	if m.Metadata.Serial != nil {
		n, err := strconv.ParseInt(string(m.Metadata.Serial), 10, 64)
		if err != nil {
			return Release{}, fmt.Errorf("bad .manifest: metadata.serial %s is not an integer", m.Metadata.Serial)
		}
		r.Serial = n
	}
	if m.Metadata.Expires != "" {
		t, err := time.Parse(time.RFC3339, m.Metadata.Expires)
		if err != nil {
			return Release{}, fmt.Errorf("bad .manifest: metadata.expires %q is not RFC 3339", m.Metadata.Expires)
		}
		r.Expires = t
	}
	return r, nil
}

// VerifierFunc adapts a function to a Verifier.
type VerifierFunc func(files bundles.Files) (Release, error)

// Verify calls f.
func (f VerifierFunc) Verify(files bundles.Files) (Release, error) { return f(files) }
