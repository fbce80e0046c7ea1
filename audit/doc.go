// Package audit keeps the decision log every enforcement point writes to:
// today an append-only JSON-lines file; a tamper-evident log (RFC 6962 Merkle
// tree, signed checkpoints) will implement the same Append.
package audit
