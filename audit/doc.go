// Package audit keeps the decision log every enforcement point (webhook,
// agent, eval) writes through one interface, Sink. Log is the tamper-evident
// implementation: records are JSON lines a person can read and jq; an RFC
// 6962 Merkle tree over them (golang.org/x/mod/sumdb/tlog) is stored beside
// them; checkpoints (tree size, root hash, time) are signed in
// golang.org/x/mod/sumdb/note format by a sigstore signer. Verify names the
// first record that was modified, deleted, inserted, duplicated or moved, or
// a truncation; ProveRecord and ProveExtension produce inclusion and
// consistency proofs CheckProof checks without the log. Appends are group
// committed; Open repairs what a crash left. See docs/audit.md.
package audit
