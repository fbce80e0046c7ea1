// Package oci distributes bundles through OCI registries: Push uploads a
// bundle tarball in OPA's OCI bundle layout (an image manifest with an
// application/vnd.oci.image.config.v1+json config and one
// application/vnd.oci.image.layer.v1.tar+gzip layer, what OPA's `type: oci`
// services download) and attaches a cosign signature of the manifest digest
// (cosign's sha256-<digest>.sig tag with a simple-signing payload, what
// `cosign verify --key` checks); Resolve, Fetch and VerifySignature read it
// back. The registry client is go-containerregistry, the signature image is
// built with cosign's own oci packages, and the payload and signing come
// from sigstore: no protocol or cryptography is written here.
package oci
