package webhook

import (
	"context"
	"fmt"
	"strings"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/engine"
	"github.com/open-policy-agent/opa/v1/ast"
)

// activateWith prepares the engine over b. A bundle whose articles query
// cluster data is enforced only with a cluster data cache (cd): its kinds
// are watched and synced first, and the engine reads them at each decision.
// Without one it is refused: without the data an "exists" query never fires
// and an "absent" one always does.
func activateWith(ctx context.Context, b *bundles.Bundle, cd *ClusterData) (Decider, error) {
	e, err := engine.New(ctx, b)
	if err != nil {
		return nil, err
	}
	kinds := e.ClusterKinds()
	if len(kinds) == 0 {
		return e, nil
	}
	if cd == nil {
		return nil, fmt.Errorf("bundle %s has articles that query cluster data (kinds %s), and the webhook has no cluster data source: "+
			"serve with --cluster-data (and RBAC to get, list and watch those kinds: charter webhook rbac prints it)", e.Revision(), strings.Join(kinds, ", "))
	}
	view, err := cd.view(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", e.Revision(), err)
	}
	ce, err := engine.New(ctx, b, engine.WithClusterView(view))
	if err != nil {
		view.release()
		return nil, err
	}
	return &clusterDecider{Engine: ce, view: view}, nil
}

// enforcing records d as the Decider in force and releases the cluster data
// only the one it replaced read (their informers stop).
func (h *Holder) enforcing(d Decider) {
	if old, ok := h.last.(*clusterDecider); ok && old != d {
		old.view.release()
	}
	h.last = d
}

// clusterDecider is an engine that reads cluster data from the cache. A
// request that an article matches whose kinds the cache cannot supply now
// (over its bound, not synced) is not decided: it fails closed.
type clusterDecider struct {
	*engine.Engine
	view *clusterView
}

// Decide decides input unless cluster data it needs is missing.
func (d *clusterDecider) Decide(ctx context.Context, input any) (engine.Decision, error) {
	return d.DecideWith(ctx, input, nil)
}

// DecideWith is Decide with verified overrides.
func (d *clusterDecider) DecideWith(ctx context.Context, input any, ov *engine.Overrides) (engine.Decision, error) {
	v, ok := input.(ast.Value)
	if !ok {
		var err error
		if v, err = ast.InterfaceToValue(input); err != nil {
			return engine.Decision{}, fmt.Errorf("convert input: %w", err)
		}
	}
	return d.DecideValueWith(ctx, v, ov)
}

// DecideValue is Decide for an OPA value.
func (d *clusterDecider) DecideValue(ctx context.Context, input ast.Value) (engine.Decision, error) {
	return d.DecideValueWith(ctx, input, nil)
}

// DecideValueWith is DecideWith for an OPA value.
func (d *clusterDecider) DecideValueWith(ctx context.Context, input ast.Value, ov *engine.Overrides) (engine.Decision, error) {
	if why := d.view.failClosed(inputKind(input)); why != "" {
		return engine.Decision{}, fmt.Errorf("not decided: %s", why)
	}
	return d.Engine.DecideValueWith(ctx, input, ov)
}

// inputKind is the kind of the object under review: request.kind.kind of an
// AdmissionReview, else the object's own kind.
func inputKind(input ast.Value) string {
	o, ok := input.(ast.Object)
	if !ok {
		return ""
	}
	get := func(o ast.Object, k string) ast.Value {
		if t := o.Get(ast.StringTerm(k)); t != nil {
			return t.Value
		}
		return nil
	}
	str := func(v ast.Value) string { s, _ := v.(ast.String); return string(s) }
	if str(get(o, "kind")) == "AdmissionReview" {
		req, _ := get(o, "request").(ast.Object)
		if req == nil {
			return ""
		}
		k, _ := get(req, "kind").(ast.Object)
		if k == nil {
			return ""
		}
		return str(get(k, "kind"))
	}
	return str(get(o, "kind"))
}
