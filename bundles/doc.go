// Package bundles builds, writes and reads OPA bundles of compiled charters.
//
// Output is deterministic: entries sorted, fixed modes and times, and the
// manifest revision is the digest of the content, so two builds of one charter
// are byte-identical.
package bundles
