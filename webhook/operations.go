package webhook

import (
	"slices"

	"github.com/charter-dev/charter/engine"
)

// explicitOnly drops, from the decision of a DELETE or CONNECT, the
// violations of articles that do not name that operation: the compiler
// lets `operations: ["*"]` match every operation, but for the webhook "*"
// means CREATE and UPDATE, so deleting a pod that predates a stricter bundle
// (or exec-ing into it) is never locked by an article written for what pods
// may be. A Decider without a catalogue is left as it is.
func explicitOnly(d Decider, op string, dec engine.Decision) engine.Decision {
	if op != "DELETE" && op != "CONNECT" || len(dec.Violations) == 0 {
		return dec
	}
	c, ok := d.(catalogue)
	if !ok || c.Bundle() == nil {
		return dec
	}
	names := map[string]bool{}
	for id, a := range c.Bundle().Info.Articles {
		if slices.Contains(a.Operations, op) {
			names[id] = true
		}
	}
	out := dec
	out.Violations = nil
	for _, f := range dec.Violations {
		if names[f.Article] {
			out.Violations = append(out.Violations, f)
		}
	}
	out.Allowed = len(out.Violations) == 0
	return out
}
