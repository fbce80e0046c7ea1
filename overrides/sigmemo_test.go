package overrides

import (
	"errors"
	"testing"
	"time"
)

// TestSignatureChecksAreRemembered: verifying an unchanged document again
// (as a pool does whenever any document changes) makes no new ECDSA
// verification, and a remembered invalid signature stays invalid; a
// document changed after signing is checked anew and fails.
func TestSignatureChecksAreRemembered(t *testing.T) {
	c := newCustodians(t)
	v, err := NewVerifier(c.info(t))
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Minute)
	good := sign(t, request(), c.alice, c.bob)
	for i := range 3 {
		if _, err := v.Verify(good, now); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	if n := v.council.memo.checks; n != 2 {
		t.Errorf("%d ECDSA verifications for 3 checks of one document with 2 signatures, want 2", n)
	}
	widened := sign(t, request(), c.alice, c.bob)
	widened.Spec.Scope.Name = "*"
	for i := range 2 {
		_, err := v.Verify(widened, now)
		if !errors.Is(err, ErrApprovals) {
			t.Fatalf("round %d: scope widened after signing: %v, want %v", i, err, ErrApprovals)
		}
	}
	if n := v.council.memo.checks; n != 4 {
		t.Errorf("%d ECDSA verifications after the widened document, want 4 (its 2 signatures, once)", n)
	}
}
