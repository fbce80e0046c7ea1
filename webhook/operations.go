package webhook

import (
	"slices"

	"github.com/charter-dev/charter/engine"
)

// decidedOperations are the admission operations the webhook decides for
// an article whose catalogue entry names ops: "*" stands for CREATE and
// UPDATE, and DELETE or CONNECT are decided only by articles that name
// them. (The compiler lets "*" match every operation; for the webhook it
// does not, so deleting a pod that predates a stricter bundle, or exec-ing
// into it, is never locked by an article written for what pods may be.)
//
// It is the one rule both sides use: RulesFor sends an article's kinds
// only for these operations, and the handler keeps only the findings of
// articles that decide the request's operation.
func decidedOperations(ops []string) []string {
	var out []string
	for _, op := range ops {
		if op == "*" {
			out = append(out, "CREATE", "UPDATE")
			continue
		}
		out = append(out, op)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// decidedOnly keeps, from a decision, the findings of the articles that
// decide op (decidedOperations). A Decider without a catalogue is left as
// it is.
func decidedOnly(d Decider, op string, dec engine.Decision) engine.Decision {
	c, ok := d.(catalogue)
	if !ok || c.Bundle() == nil || len(dec.All()) == 0 {
		return dec
	}
	// A finding of an article the catalogue does not list is kept: the
	// webhook cannot tell which operations it decides, and keeping it
	// fails closed.
	decides := func(f engine.Finding) bool {
		a, ok := c.Bundle().Info.Articles[f.Article]
		return !ok || slices.Contains(decidedOperations(a.Operations), op)
	}
	keep := func(fs []engine.Finding) []engine.Finding {
		return slices.DeleteFunc(slices.Clone(fs), func(f engine.Finding) bool { return !decides(f) })
	}
	out := engine.Decision{Allowed: dec.Allowed, Violations: keep(dec.Violations), Warnings: keep(dec.Warnings), Audits: keep(dec.Audits), Overridden: keep(dec.Overridden)}
	if len(dec.Violations) > 0 {
		// A denial without a violation (a policy bug) stays a denial.
		out.Allowed = len(out.Violations) == 0
	}
	return out
}
