// Package keys reads and writes cosign-format key pairs: an ECDSA P-256
// private key encrypted with scrypt + NaCl secretbox in an
// "ENCRYPTED SIGSTORE PRIVATE KEY" PEM block, and its "PUBLIC KEY" PEM.
//
// The format, the encryption and the signatures all come from sigstore's own
// libraries (github.com/sigstore/sigstore/pkg/cryptoutils and pkg/signature,
// which cosign's pkg/cosign calls for the same job), so key pairs made by
// `cosign generate-key-pair` and by `charter keys generate` are
// interchangeable. pkg/cosign itself is not imported: it would link cosign's
// registry, Rekor and TUF clients into every charter build.
//
// Loading a private key tells apart a wrong password (ErrWrongPassword),
// altered key-encryption parameters (ErrKDFParameters), a damaged key
// (ErrCorruptKey) and a file that holds no such key at all (ErrNotAKey).
package keys
