// Package overrides reads, signs and verifies Override documents: scoped,
// expiring exceptions to a charter's articles that count only with the
// approval of k distinct council keys.
//
// The council (threshold, public keys, longest lifetime, revoked ids) comes
// from the compiled, signed bundle (compiler.CouncilInfo), never from the
// override. A signature covers Payload: a domain-separation prefix, the
// charter name and the RFC 8785 canonical JSON of every field but the
// signatures, so any change after signing invalidates every signature.
//
// Verify checks one document and answers a Verified override, or a *Failure
// naming the check that failed and how many distinct valid approvals it has
// of how many needed; any other error means the check could not be made.
// Verified overrides travel into the decision as data (Set.Data): the engine
// and the compiled Rego match them against findings the same way (article,
// namespace, kind, name glob, labels, time window).
//
// A council key is any ECDSA P-256 key whose public half the charter lists,
// so a key rebuilt from Shamir shares signs as one more custodian (Sign).
package overrides
