package plugin

import (
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"
)

// TestClaimOverridesRoot: the bundle OPA's store gets claims
// charter_overrides, also when an older bundle's manifest did not; the
// verified bundle itself is left as it was.
func TestClaimOverridesRoot(t *testing.T) {
	roots := func(rs ...string) *[]string { return &rs }
	for _, tc := range []struct {
		name string
		in   *[]string
		want []string
	}{
		{"older bundle: charter only", roots("charter"), []string{"charter", "charter_overrides"}},
		{"current bundle", roots("charter", "charter_overrides"), []string{"charter", "charter_overrides"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &bundle.Bundle{Manifest: bundle.Manifest{Roots: tc.in}}
			before := slices.Clone(*tc.in)
			got := claimOverridesRoot(b)
			if !slices.Equal(*got.Manifest.Roots, tc.want) {
				t.Errorf("roots = %v, want %v", *got.Manifest.Roots, tc.want)
			}
			if !slices.Equal(*b.Manifest.Roots, before) {
				t.Errorf("the verified bundle's roots changed to %v", *b.Manifest.Roots)
			}
		})
	}
	if b := (&bundle.Bundle{}); claimOverridesRoot(b) != b {
		t.Error("a bundle claiming every root (no roots) was changed")
	}
}

// TestOwnedRoot: a bundle OPA loaded itself may not claim data.charter,
// data.charter_overrides, anything below them, or everything.
func TestOwnedRoot(t *testing.T) {
	for root, want := range map[string]bool{
		"": true, "charter": true, "charter/x": true, "charter_overrides": true, "charter_overrides/forged": true,
		"authz": false, "chart": false, "charterx": false, "charter_overridesx": false,
	} {
		if got := ownedRoot(root); got != want {
			t.Errorf("ownedRoot(%q) = %v, want %v", root, got, want)
		}
	}
}
