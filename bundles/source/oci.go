package source

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/oci"
	"github.com/google/go-containerregistry/pkg/name"
)

// OCI is a bundle in an OCI registry (oci://REGISTRY/REPO:TAG), in OPA's
// OCI bundle layout. It is polled by manifest digest: a HEAD of the tag,
// and the layer is downloaded only when the digest changed. The bundle's
// own signature (.signatures.json) is what the Reloader verifies: it binds
// every file, the serial and the expiry; the registry's cosign signature
// binds only the manifest, and is for `charter bundle pull` and cosign.
type OCI struct {
	ref  name.Reference
	opts oci.Options
}

// ociTimeout bounds one poll of a registry (resolve and download), so a
// registry that stops answering does not stall the reloads.
const ociTimeout = 2 * time.Minute

func newOCI(ref string, o Options) (*OCI, error) {
	opts := oci.Options{}
	if o.HTTPClient != nil {
		opts.Transport = o.HTTPClient.Transport
	}
	n, err := oci.ParseReference(ref, opts)
	if err != nil {
		return nil, fmt.Errorf("bundle %w", err)
	}
	if opts, err = opts.Reusing(); err != nil {
		return nil, fmt.Errorf("bundle %s: %w", ref, err)
	}
	return &OCI{ref: n, opts: opts}, nil
}

func (s *OCI) String() string { return oci.Scheme + s.ref.String() }

// Remote is true: an unreachable registry is an outage.
func (s *OCI) Remote() bool { return true }

// Fetch resolves the tag; the fingerprint is the manifest digest.
func (s *OCI) Fetch(ctx context.Context, since string) (*Fetched, error) {
	ctx, cancel := context.WithTimeout(ctx, ociTimeout)
	defer cancel()
	d, err := oci.Resolve(ctx, s.ref, s.opts)
	if err != nil {
		return nil, err
	}
	fp := d.DigestStr()
	if fp == since {
		return nil, ErrNotModified
	}
	tgz, err := oci.Fetch(ctx, d, s.opts)
	if err != nil {
		return nil, err
	}
	files, err := bundles.ReadTarGz(bytes.NewReader(tgz))
	if err != nil {
		return nil, &FetchError{fp, fmt.Errorf("%s: %w", d, err)}
	}
	return &Fetched{Files: files, Fingerprint: fp}, nil
}
