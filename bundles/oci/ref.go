package oci

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Scheme prefixes a registry reference wherever a bundle is named:
// oci://REGISTRY/REPO:TAG or oci://REGISTRY/REPO@sha256:DIGEST.
const Scheme = "oci://"

// Options configure how the registry is reached.
type Options struct {
	// Transport carries the requests; nil: http.DefaultTransport.
	Transport http.RoundTripper
	// Insecure speaks plain HTTP to the registry. Loopback and localhost
	// registries are spoken to over plain HTTP without it (as docker does).
	Insecure bool

	puller *remote.Puller // see Reusing
}

// Reusing returns options whose calls share one client, its connections
// and its registry tokens: a poller then costs one request per poll (the
// HEAD of the manifest), not a ping and a token exchange each time.
func (o Options) Reusing() (Options, error) {
	p, err := remote.NewPuller(o.remote(context.Background())...)
	if err != nil {
		return o, err
	}
	o.puller = p
	return o, nil
}

// ParseReference parses oci://REGISTRY/REPO:TAG (or @sha256:DIGEST). The
// registry must be named: a bare REPO:TAG would silently mean Docker Hub.
func ParseReference(ref string, o Options) (name.Reference, error) {
	rest, ok := strings.CutPrefix(ref, Scheme)
	if !ok {
		return nil, fmt.Errorf("%s: not an %sREGISTRY/REPO:TAG reference", ref, Scheme)
	}
	host, _, _ := strings.Cut(rest, "/")
	if !strings.Contains(rest, "/") || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return nil, fmt.Errorf("%s: name the registry host, as in %sghcr.io/org/policy:v1 or %s127.0.0.1:5000/policy:v1", ref, Scheme, Scheme)
	}
	opts := []name.Option{name.StrictValidation}
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	var r name.Reference
	var err error
	if strings.Contains(rest, "@") {
		r, err = name.NewDigest(rest, opts...)
	} else {
		r, err = name.NewTag(rest, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w (want %sREGISTRY/REPO:TAG or @sha256:DIGEST; repository names are lower case)", ref, err, Scheme)
	}
	return r, nil
}

// remote is the go-containerregistry options of one call: credentials from
// the docker config (as docker, oras and cosign read them).
func (o Options) remote(ctx context.Context) []remote.Option {
	t := o.Transport
	if t == nil {
		t = http.DefaultTransport
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(t), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	if o.puller != nil {
		opts = append(opts, remote.Reuse(o.puller))
	}
	return opts
}
