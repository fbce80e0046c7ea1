package webhook

import (
	"context"

	"github.com/charter-dev/charter/engine"
	"github.com/open-policy-agent/opa/v1/ast"
)

// introduced narrows a denied UPDATE to the violations the update brings, as
// Pod Security Admission does, but only when the update changes nothing but
// metadata and status (labels, annotations, finalizers, status): then the
// old object is decided on its own, as `charter eval` decides a manifest (a
// CREATE with no user), and only the violations it did not have are kept;
// the excused ones stay visible as warnings. An update that changes anything
// else (spec, data, a subresource's content) is decided in full: the engine
// names one field per article and element, so comparing findings cannot tell
// a new violation of an article from an old one. When the old object cannot
// be decided (error, deadline), the full denial stands. Findings that come
// from the request (its user, its options) or from articles that match
// UPDATE only are never excused: the old object alone does not produce them.
func (h *Handler) introduced(ctx context.Context, d Decider, input ast.Value, now engine.Decision) engine.Decision {
	old, obj := requestField(input, "oldObject"), requestField(input, "object")
	if old == nil || obj == nil || !onlyMetadataChanged(obj, old) {
		return now
	}
	before, err := h.evaluate(ctx, d, old.Value)
	if err != nil {
		h.log.Warn("old object not decided; the update is decided in full", "err", err)
		return now
	}
	return onlyIntroduced(now, before)
}

// onlyMetadataChanged reports whether a and b are equal once their
// metadata and status are removed. Anything that is not an object must be
// equal as it is.
func onlyMetadataChanged(a, b *ast.Term) bool {
	ao, aok := a.Value.(ast.Object)
	bo, bok := b.Value.(ast.Object)
	if !aok || !bok {
		return a.Equal(b)
	}
	return ast.Compare(withoutMetadata(ao), withoutMetadata(bo)) == 0
}

func withoutMetadata(o ast.Object) ast.Object {
	out := ast.NewObject()
	o.Foreach(func(k, v *ast.Term) {
		if s, ok := k.Value.(ast.String); ok && (s == "metadata" || s == "status") {
			return
		}
		out.Insert(k, v)
	})
	return out
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
