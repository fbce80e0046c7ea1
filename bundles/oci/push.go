package oci

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore/pkg/signature"
)

// The media types of OPA's OCI bundle layout: OPA's downloader takes the
// first layer of LayerMediaType from the manifest.
const (
	ManifestMediaType = types.OCIManifestSchema1
	ConfigMediaType   = types.OCIConfigJSON
	LayerMediaType    = types.OCILayer // application/vnd.oci.image.layer.v1.tar+gzip
)

// LayerTitle names the bundle layer (the annotation oras gives a file).
const LayerTitle = "bundle.tar.gz"

const titleAnnotation = "org.opencontainers.image.title"

// Image is the OCI image of a bundle tarball: one gzip layer holding the
// tarball's bytes unchanged, so the layer digest is the tarball's SHA-256
// and the same tarball always makes the same manifest digest.
func Image(tgz []byte) (v1.Image, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tgz)), nil
	}, tarball.WithMediaType(LayerMediaType))
	if err != nil {
		return nil, fmt.Errorf("bundle layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, ManifestMediaType)
	img = mutate.ConfigMediaType(img, ConfigMediaType)
	return mutate.Append(img, mutate.Addendum{
		Layer:       layer,
		MediaType:   LayerMediaType,
		Annotations: map[string]string{titleAnnotation: LayerTitle},
	})
}

// Push uploads the bundle tarball to ref and, with a signer, attaches a
// cosign signature of the manifest digest (replacing an earlier signature
// by the same key, keeping other keys' signatures). It returns the
// manifest's digest reference. It does not check the bundle: callers verify
// what they push.
func Push(ctx context.Context, ref name.Reference, tgz []byte, signer signature.SignerVerifier, o Options) (name.Digest, error) {
	img, err := Image(tgz)
	if err != nil {
		return name.Digest{}, err
	}
	h, err := img.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	d := ref.Context().Digest(h.String())
	if err := remote.Write(ref, img, o.remote(ctx)...); err != nil {
		return name.Digest{}, fmt.Errorf("push %s: %w", ref, err)
	}
	if signer == nil {
		return d, nil
	}
	if err := attachSignature(ctx, d, signer, o); err != nil {
		return d, fmt.Errorf("push the signature of %s: %w", d, err)
	}
	return d, nil
}
