package source

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/oci"
	"github.com/charter-dev/charter/charter"
)

// ErrNotModified is Fetch's answer when nothing changed since the
// fingerprint it was given.
var ErrNotModified = errors.New("not modified")

// FetchError is a fetch that failed on content whose fingerprint is known:
// the Reloader does not try the same content again until it changes.
type FetchError struct {
	Fingerprint string
	Err         error
}

func (e *FetchError) Error() string { return e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// Fetched is what a Source found: the bundle's files, and for charter sources
// the bundle already compiled and the charter it came from.
type Fetched struct {
	Files       bundles.Files
	Bundle      *bundles.Bundle  // nil: the Reloader parses Files after verifying them
	Charter     *charter.Charter // charter sources only
	Fingerprint string           // what Fetch compares next time: file states, an ETag, a digest
}

// Source is where a bundle comes from.
type Source interface {
	// Fetch returns the bundle, or ErrNotModified when its fingerprint is
	// still since ("" always fetches).
	Fetch(ctx context.Context, since string) (*Fetched, error)
	// Remote reports whether the source is reached over the network: then a
	// failed first fetch is an outage to ride out, not a typo to report.
	Remote() bool
	String() string
}

// Options configure how sources are reached.
type Options struct {
	HTTPClient *http.Client // https:// sources (and the transport of oci:// ones); http.DefaultClient when nil
}

// Open turns a reference into a Source: https:// (or http://) is an OPA
// bundle service; oci:// a bundle in an OCI registry; anything else is a local path, classified at every fetch
// (see Local), so a path that appears later or changes kind is followed.
func Open(ref string, o Options) (Source, error) {
	switch {
	case ref == "":
		return nil, errors.New("no bundle given")
	case strings.HasPrefix(ref, "https://"), strings.HasPrefix(ref, "http://"):
		return newHTTP(ref, o)
	case strings.HasPrefix(ref, oci.Scheme):
		return newOCI(ref, o)
	case strings.Contains(ref, "://"):
		scheme, _, _ := strings.Cut(ref, "://")
		return nil, fmt.Errorf("bundle %s: unsupported scheme %q (use a path, https:// or oci://)", ref, scheme)
	}
	return &Local{Paths: []string{ref}}, nil
}

// Charters is the Source of charter files and directories, compiled together.
func Charters(paths []string) Source { return &Local{Paths: paths, Charters: true} }
