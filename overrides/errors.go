package overrides

import (
	"errors"
	"fmt"
)

// Check names one verification step. The values are stable: metrics label
// ignored overrides with them.
type Check string

// The checks of Verify, in the order it makes them.
const (
	CheckMalformed   Check = "malformed"     // not a well-formed Override document
	CheckCharter     Check = "charter"       // written for another charter
	CheckRevoked     Check = "revoked"       // the charter revokes its id
	CheckScope       Check = "scope"         // names an article the charter does not have
	CheckLifetime    Check = "lifetime"      // lasts longer than the council's maxLifetime
	CheckNotYetValid Check = "not-yet-valid" // before notBefore
	CheckExpired     Check = "expired"       // at or after expires
	CheckApprovals   Check = "approvals"     // fewer than threshold distinct valid council signatures
)

// Sentinels for errors.Is on a *Failure.
var (
	ErrMalformed   = errors.New("malformed override")
	ErrCharter     = errors.New("override is for another charter")
	ErrRevoked     = errors.New("override is revoked")
	ErrScope       = errors.New("override scope is outside the charter")
	ErrLifetime    = errors.New("override lifetime is over the council's maximum")
	ErrNotYetValid = errors.New("override is not yet valid")
	ErrExpired     = errors.New("override has expired")
	ErrApprovals   = errors.New("override has too few council approvals")
)

var sentinels = map[Check]error{
	CheckMalformed: ErrMalformed, CheckCharter: ErrCharter, CheckRevoked: ErrRevoked, CheckScope: ErrScope,
	CheckLifetime: ErrLifetime, CheckNotYetValid: ErrNotYetValid, CheckExpired: ErrExpired, CheckApprovals: ErrApprovals,
}

// Failure says why an override does not count: the first check it failed,
// and, once signatures were looked at, how many distinct valid approvals it
// has of how many the council needs. Any other error from Verify means the
// override could not be checked at all.
type Failure struct {
	ID        string // the override id, when the document had one
	Check     Check
	Reason    string
	Approvals int               // distinct council keys with a valid signature
	Threshold int               // 0: signatures were not looked at (no council, malformed document)
	Results   []SignatureResult // one per signature, in document order
}

func (f *Failure) Error() string {
	msg := fmt.Sprintf("%s check failed: %s", f.Check, f.Reason)
	if f.ID != "" {
		msg = "override " + f.ID + ": " + msg
	}
	if f.Threshold > 0 {
		msg += fmt.Sprintf(" (%d of %d valid approvals)", f.Approvals, f.Threshold)
	}
	return msg
}

// Is matches the sentinel of the failed check.
func (f *Failure) Is(target error) bool { return sentinels[f.Check] == target }

func malformed(format string, args ...any) *Failure {
	return &Failure{Check: CheckMalformed, Reason: fmt.Sprintf(format, args...)}
}
