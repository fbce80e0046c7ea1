package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/charter-dev/charter/bundles"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// maxManifest bounds a manifest read from a registry.
const maxManifest = 4 << 20

// Resolve asks the registry for the manifest digest ref names now (a HEAD
// request: cheap enough to poll).
func Resolve(ctx context.Context, ref name.Reference, o Options) (name.Digest, error) {
	if d, ok := ref.(name.Digest); ok {
		return d, nil
	}
	desc, err := remote.Head(ref, o.remote(ctx)...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("resolve %s: %w", ref, err)
	}
	return ref.Context().Digest(desc.Digest.String()), nil
}

// Fetch reads the bundle tarball of the manifest at d: the manifest must
// be an OCI image manifest of exactly one tar+gzip layer, no larger than
// bundles.MaxSize; go-containerregistry checks the manifest and layer
// bytes against their digests.
func Fetch(ctx context.Context, d name.Digest, o Options) ([]byte, error) {
	desc, err := remote.Get(d, o.remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", d, err)
	}
	if len(desc.Manifest) > maxManifest {
		return nil, fmt.Errorf("fetch %s: manifest of %d bytes", d, len(desc.Manifest))
	}
	if desc.MediaType != ManifestMediaType {
		return nil, fmt.Errorf("fetch %s: a %s, not an OCI image manifest (%s) of a bundle", d, desc.MediaType, ManifestMediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", d, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", d, err)
	}
	layer, err := bundleLayer(m)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", d, err)
	}
	if layer.Size > bundles.MaxSize {
		return nil, fmt.Errorf("fetch %s: bundle layer of %d bytes is larger than the limit of %d", d, layer.Size, bundles.MaxSize)
	}
	l, err := img.LayerByDigest(layer.Digest)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", d, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetch %s: layer %s: %w", d, layer.Digest, err)
	}
	defer rc.Close()
	// The reader checks the size and digest at its end; a mismatch is told
	// apart from a broken connection: it is the registry serving other bytes
	// than the manifest names.
	var buf bytes.Buffer
	_, err = io.Copy(&buf, io.LimitReader(rc, layer.Size+1))
	if int64(buf.Len()) == layer.Size {
		if got := sha256.Sum256(buf.Bytes()); hex.EncodeToString(got[:]) != layer.Digest.Hex || layer.Digest.Algorithm != "sha256" {
			return nil, &bundles.VerificationFailure{Reason: fmt.Sprintf("the registry served a bundle layer that hashes to sha256:%x, not %s as the manifest says (tampered)", got, layer.Digest)}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fetch %s: layer %s: %w", d, layer.Digest, err)
	}
	if int64(buf.Len()) != layer.Size {
		return nil, fmt.Errorf("fetch %s: layer %s: %d bytes, the manifest says %d", d, layer.Digest, buf.Len(), layer.Size)
	}
	return buf.Bytes(), nil
}

// bundleLayer is the manifest's one bundle layer. OPA takes the first
// tar+gzip layer; a manifest with two could be read differently by
// different tools, so it is refused.
func bundleLayer(m *v1.Manifest) (v1.Descriptor, error) {
	if m.Config.MediaType != ConfigMediaType {
		return v1.Descriptor{}, fmt.Errorf("config media type %q, not %q (not an OPA bundle image)", m.Config.MediaType, ConfigMediaType)
	}
	var found []v1.Descriptor
	for _, l := range m.Layers {
		if l.MediaType == LayerMediaType {
			found = append(found, l)
		}
	}
	switch len(found) {
	case 0:
		return v1.Descriptor{}, errors.New("no " + string(LayerMediaType) + " layer: not an OPA bundle image")
	case 1:
		return found[0], nil
	}
	return v1.Descriptor{}, fmt.Errorf("%d %s layers; a bundle image has exactly one", len(found), LayerMediaType)
}
