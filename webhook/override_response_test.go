package webhook

import (
	"testing"

	"github.com/charter-dev/charter/engine"
)

// TestResponseNamesOverride: a denial an override lifted admits, with a
// warning and an audit annotation naming the override and the article.
func TestResponseNamesOverride(t *testing.T) {
	d := engine.Decision{Allowed: true, Overridden: []engine.Finding{
		{Article: "AD-001", Action: "deny", Message: "container c is privileged", Path: "spec.containers[0]", Override: "debug-web-1"},
		{Article: "AD-007", Action: "deny", Message: "no probe", Override: "debug-web-1"},
	}}
	r := Response("u1", d)
	if !r.Allowed || r.Result != nil {
		t.Fatalf("response = %+v, want allowed", r)
	}
	want := []string{
		"[AD-001] allowed by override debug-web-1: container c is privileged (at spec.containers[0])",
		"[AD-007] allowed by override debug-web-1: no probe",
	}
	if len(r.Warnings) != 2 || r.Warnings[0] != want[0] || r.Warnings[1] != want[1] {
		t.Errorf("warnings = %q, want %q", r.Warnings, want)
	}
	if got := r.AuditAnnotations[OverrideAnnotation]; got != "AD-001 by override debug-web-1; AD-007 by override debug-web-1" {
		t.Errorf("audit annotation = %q", got)
	}
	if ids := d.OverrideIDs(); len(ids) != 1 || ids[0] != "debug-web-1" {
		t.Errorf("OverrideIDs = %v", ids)
	}
}
