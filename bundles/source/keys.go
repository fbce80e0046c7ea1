package source

import (
	"github.com/charter-dev/charter/bundles"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Keys is the Verifier for signed bundles: bundles.Verify against the
// trusted keys, any one of which may have signed (key rotation). Its errors
// keep bundles.VerificationFailure ("the signature is bad") apart from
// "could not check".
func Keys(trusted ...signature.Verifier) Verifier { return keyVerifier(trusted) }

type keyVerifier []signature.Verifier

func (k keyVerifier) Verify(files bundles.Files) (Release, error) {
	v, err := bundles.Verify(files, k...)
	if err != nil {
		return Release{}, err
	}
	return Release{Serial: v.Serial, Expires: v.Expires, KeyID: v.KeyID}, nil
}
