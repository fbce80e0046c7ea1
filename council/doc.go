// Package council keeps a council signing key in Shamir custody: Split makes
// a new ECDSA P-256 key and cuts its private half into n shares, any k of
// which rebuild it (github.com/hashicorp/vault/shamir); the whole key is
// never written anywhere.
//
// Each share file is authenticated at split time: it carries the split id,
// its index, the threshold and the council public key, and a signature by
// the council key itself over all of them and the share bytes. Parse checks
// that signature, so a tampered share is named before anything is combined;
// Combine then names a share from another split, the same share twice and
// too few shares, and checks that the rebuilt key's public half is the
// council key before anyone signs with it. vault's Combine returns garbage,
// not an error, for too few or inconsistent shares: its output is never
// trusted unchecked.
//
// A rebuilt key signs overrides as one more council key (overrides.Sign);
// Key.Wipe zeroes the key material this package holds.
package council
