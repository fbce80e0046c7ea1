package council

import "errors"

// Reasons a share or a set of shares is refused; test with errors.Is.
var (
	// ErrMalformed: not a share file this package writes.
	ErrMalformed = errors.New("malformed council share")
	// ErrTampered: the share's signature by the council key does not verify:
	// a byte of it changed after the split (or it was never made by one).
	ErrTampered = errors.New("council share was altered after the split")
	// ErrForeign: shares from different splits (or council keys) were mixed.
	ErrForeign = errors.New("council share is from another split")
	// ErrDuplicate: one share was given twice; it counts once.
	ErrDuplicate = errors.New("the same council share was given twice")
	// ErrTooFew: fewer distinct shares than the split's threshold.
	ErrTooFew = errors.New("too few council shares")
	// ErrMismatch: the shares combined into a key whose public half is not
	// the council key (vault's Combine does not notice; this check does).
	ErrMismatch = errors.New("the rebuilt key is not the council key")
)
