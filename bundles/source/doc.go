// Package source is the one way from a policy reference to an active,
// verified bundle, for every enforcement point (charter eval and test, the
// webhook, the agent). Open turns a path or URL into a Source: a charter file
// or a charter directory (compiled on the spot), a bundle .tar.gz, a bundle
// directory (one holding a .manifest), an OPA bundle service over HTTPS, or
// a bundle in an OCI registry (oci://, see package bundles/oci).
// A Reloader keeps the bundle current: it fetches only what changed (file
// fingerprints, ETags), verifies the signature before anything is activated,
// refuses a lower serial or an expired bundle, swaps atomically, keeps the last
// good bundle enforcing on any error, and persists it in a state directory so
// a restart with the source unreachable comes up on it.
package source
