package webhook

import (
	"context"

	"github.com/charter-dev/charter/engine"
	"github.com/open-policy-agent/opa/v1/ast"
)

// introduced narrows a denied UPDATE to the violations the update brings.
// It decides the old object on its own, as `charter eval` decides a manifest
// (a CREATE with no user), and keeps only the violations the old object did
// not have. Findings that come from the request (its user, its options) or
// from articles that match UPDATE only are therefore never excused: the old
// object alone does not produce them. The excused ones stay visible as
// warnings. An UPDATE without both objects is decided as it is.
func (h *Handler) introduced(ctx context.Context, d Decider, input ast.Value, now engine.Decision) (engine.Decision, error) {
	old := requestField(input, "oldObject")
	if old == nil || requestField(input, "object") == nil {
		return now, nil
	}
	before, err := h.evaluate(ctx, d, old.Value)
	if err != nil {
		return engine.Decision{}, err
	}
	return onlyIntroduced(now, before), nil
}

// onlyIntroduced keeps the violations of now that before does not have. A
// violation counts as the same when article, field and message all match,
// so changing a forbidden value to another forbidden value is a new one.
func onlyIntroduced(now, before engine.Decision) engine.Decision {
	if len(now.Violations) == 0 {
		return now // denied without a violation: a policy bug, never narrowed
	}
	had := map[findingKey]bool{}
	for _, f := range before.Violations {
		had[keyOf(f)] = true
	}
	out := now
	out.Violations = nil
	out.Warnings = nil
	for _, f := range now.Violations {
		if !had[keyOf(f)] {
			out.Violations = append(out.Violations, f)
			continue
		}
		f.Message = "already violated before this update, so not denied: " + f.Message
		out.Warnings = append(out.Warnings, f)
	}
	out.Warnings = append(out.Warnings, now.Warnings...)
	out.Allowed = len(out.Violations) == 0
	return out
}

type findingKey struct{ article, path, message string }

func keyOf(f engine.Finding) findingKey { return findingKey{f.Article, f.Path, f.Message} }
