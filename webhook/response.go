package webhook

import (
	"net/http"
	"strings"

	"github.com/charter-dev/charter/engine"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Response builds the AdmissionResponse for a decision: violations deny with
// 403 and a message naming every article, warn articles become warnings, and
// audit articles become audit annotations keyed by article id. A denial a
// verified override lifted becomes a warning naming the override and the
// article, and the audit annotation "override" lists them all.
//
// The apiserver stores each audit annotation as "<webhook name>/<key>" and
// drops keys that contain a "/" themselves, so the key is the bare article
// id: with the webhook named validate.charter.dev, the audit event carries
// validate.charter.dev/AD-010.
// OverrideAnnotation is the audit annotation key listing the denials that
// verified overrides lifted ("AD-001 by override debug-web-1; ...").
const OverrideAnnotation = "override"

func Response(uid types.UID, d engine.Decision) *admissionv1.AdmissionResponse {
	r := &admissionv1.AdmissionResponse{UID: uid, Allowed: d.Allowed}
	if !d.Allowed {
		r.Result = &metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusForbidden,
			Reason:  metav1.StatusReasonForbidden,
			Message: denyMessage(d.Violations),
		}
	}
	for _, f := range d.Warnings {
		r.Warnings = append(r.Warnings, finding(f))
	}
	var lifted []string
	for _, f := range d.Overridden {
		r.Warnings = append(r.Warnings, "["+f.Article+"] allowed by override "+f.Override+": "+detail(f))
		lifted = append(lifted, f.Article+" by override "+f.Override)
	}
	if len(d.Audits) > 0 || len(lifted) > 0 {
		r.AuditAnnotations = map[string]string{}
		for _, f := range d.Audits {
			if prev, ok := r.AuditAnnotations[f.Article]; ok {
				r.AuditAnnotations[f.Article] = prev + "; " + detail(f)
				continue
			}
			r.AuditAnnotations[f.Article] = detail(f)
		}
		if len(lifted) > 0 {
			r.AuditAnnotations[OverrideAnnotation] = strings.Join(lifted, "; ")
		}
	}
	return r
}

// denyMessage lists every violated article. A decision that denies without a
// violation (a policy bug) still says so rather than sending an empty message.
func denyMessage(vs []engine.Finding) string {
	if len(vs) == 0 {
		return "denied by charter policy without a reported violation"
	}
	lines := make([]string, len(vs))
	for i, f := range vs {
		lines[i] = finding(f)
	}
	return strings.Join(lines, "\n")
}

// finding renders "[AD-001] message (at spec.containers[0].securityContext.privileged)".
func finding(f engine.Finding) string { return "[" + f.Article + "] " + detail(f) }

// detail is a finding's message and, when known, the field it is about.
func detail(f engine.Finding) string {
	if f.Path == "" {
		return f.Message
	}
	return f.Message + " (at " + f.Path + ")"
}

// allowResponse admits without evaluation, saying why in the audit record only.
func allowResponse(uid types.UID) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{UID: uid, Allowed: true}
}

// errorResponse answers when no decision could be made: denied with a message
// that says why (fail closed), or allowed with a warning when failOpen.
func errorResponse(uid types.UID, reason string, failOpen bool) *admissionv1.AdmissionResponse {
	if failOpen {
		return &admissionv1.AdmissionResponse{UID: uid, Allowed: true,
			Warnings: []string{"charter admitted this request without a decision (fail-open): " + reason}}
	}
	return &admissionv1.AdmissionResponse{UID: uid, Allowed: false, Result: &metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusForbidden,
		Reason:  metav1.StatusReasonForbidden,
		Message: "charter could not decide, and denies when it cannot decide (fail closed): " + reason,
	}}
}
