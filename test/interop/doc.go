// Package interop proves that a charter bundle works with the peer tools
// people already run: the real opa and conftest binaries, built from the pinned
// tools modules under tools/ into bin/ by `make tools`.
//
// The tests build every shipped charter with the charter CLI, then check that
// opa accepts the bundle (check --strict, fmt, inspect), and that opa eval,
// opa run --server, conftest test and charter eval all reach the decisions of
// the embedded engine on every object of the shipped test data, both as raw
// manifests and wrapped in AdmissionReviews.
package interop
