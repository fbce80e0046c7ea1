package oci

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/cosign/v3/pkg/oci/static"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// FuzzParseReference: whatever parses names a registry host and a tag or
// digest, and its string form parses back to itself.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"oci://ghcr.io/org/policy:v1", "oci://127.0.0.1:5000/p@sha256:" + strings.Repeat("a", 64),
		"oci://localhost/p:latest", "oci://policy:v1", "oci://ghcr.io/org/policy", "ghcr.io/x:y", "oci://[::1]:5000/p:v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseReference(s, Options{})
		if err != nil {
			return
		}
		if n.Context().RegistryStr() == name.DefaultRegistry && !strings.HasPrefix(s, Scheme+name.DefaultRegistry) {
			t.Fatalf("%q resolved to Docker Hub without naming it", s)
		}
		again, err := ParseReference(Scheme+n.String(), Options{})
		if err != nil || again.String() != n.String() {
			t.Fatalf("%q -> %s -> %v, %v", s, n, again, err)
		}
	})
}

// FuzzCheckPayload: a payload is accepted only when it is a cosign
// simple-signing document naming exactly the digest.
func FuzzCheckPayload(f *testing.F) {
	d, err := name.NewDigest("127.0.0.1:5000/charter/policy@sha256:" + strings.Repeat("b", 64))
	if err != nil {
		f.Fatal(err)
	}
	good, err := payload.Cosign{Image: d}.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"critical":{"image":{"docker-manifest-digest":"sha256:bb"},"type":"cosign container image signature"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		s, err := static.NewSignature(msg, "")
		if err != nil {
			return
		}
		if checkPayload(s, d) != nil {
			return
		}
		var p payload.SimpleContainerImage
		if err := json.Unmarshal(msg, &p); err != nil || p.Critical.Image.DockerManifestDigest != d.DigestStr() || p.Critical.Type != payload.CosignSignatureType {
			t.Fatalf("accepted a payload that does not name %s: %s", d.DigestStr(), msg)
		}
	})
}
