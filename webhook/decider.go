package webhook

import (
	"context"

	"github.com/charter-dev/charter/engine"
)

// Decider is what the webhook needs from the engine: a decision for one
// input, and the revision of the bundle that made it. *engine.Engine is one.
type Decider interface {
	Decide(ctx context.Context, input any) (engine.Decision, error)
	Revision() string
}

// Source gives the Decider currently in force, or nil while none is loaded.
// The handler asks once per request, so a hot reload never splits a request
// between two bundles.
type Source interface {
	Current() Decider
}

// Fixed is a Source that always answers with d.
func Fixed(d Decider) Source { return fixed{d} }

type fixed struct{ d Decider }

func (f fixed) Current() Decider { return f.d }
