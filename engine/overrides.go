package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/charter-dev/charter/overrides"
	"github.com/open-policy-agent/opa/v1/ast"
)

// Overrides are verified overrides prepared for decisions: the set, and its
// value as data.charter_overrides. Build one per set (NewOverrides) and
// share it across decisions; nil means none.
type Overrides struct {
	set   overrides.Set
	value ast.Value // the set as an object keyed by id
}

// NewOverrides prepares a set of verified overrides. Only overrides that
// passed overrides.Verifier.Verify belong here: the decision trusts them.
func NewOverrides(set overrides.Set) (*Overrides, error) {
	raw, err := json.Marshal(set.Data())
	if err != nil {
		return nil, fmt.Errorf("encode overrides: %w", err)
	}
	v, err := ast.ValueFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("encode overrides: %w", err)
	}
	return &Overrides{set: set, value: v}, nil
}

// Set is the verified overrides.
func (o *Overrides) Set() overrides.Set {
	if o == nil {
		return nil
	}
	return o.set
}

func (o *Overrides) data() ast.Value {
	if o == nil {
		return ast.NewObject()
	}
	return o.value
}

// liftNative moves the violations a verified override lifts into
// d.Overridden, as the compiled data.charter.decision does with
// lib.override_matches: the least matching id wins.
func liftNative(d *Decision, e *env, ov *Overrides, now time.Time) {
	if ov == nil || len(ov.set) == 0 || e == nil || len(d.Violations) == 0 {
		return
	}
	open := d.Violations[:0:0]
	for _, f := range d.Violations {
		if id := overrideFor(ov.set, e, f.Article, now); id != "" {
			f.Override = id
			d.Overridden = append(d.Overridden, f)
			continue
		}
		open = append(open, f)
	}
	d.Violations = open
	d.Allowed = len(open) == 0
}

func overrideFor(set overrides.Set, e *env, article string, now time.Time) string {
	for _, o := range set { // sorted by id: the first match is the least id
		if overrideMatches(o, e, article, now) {
			return o.ID
		}
	}
	return ""
}

// overrideMatches is lib.override_matches.
func overrideMatches(o *overrides.Verified, e *env, article string, now time.Time) bool {
	found := false
	for _, a := range o.Articles {
		found = found || a == article
	}
	if !found || ast.Compare(e.namespace, ast.String(o.Scope.Namespace)) != 0 || e.kind != o.Scope.Kind {
		return false
	}
	name := getPath(e.resource, "metadata", "name")
	if name == nil {
		name = ast.String("")
	}
	if !holds(builtin.glob, ast.StringTerm(o.Scope.Name), ast.NullTerm(), ast.NewTerm(name)) {
		return false
	}
	if sel := o.Scope.LabelSelector; sel != nil {
		for k, v := range sel.MatchLabels {
			got := get(e.labels, k)
			if got == nil || ast.Compare(got, ast.String(v)) != 0 {
				return false
			}
		}
	}
	n := now.UnixNano()
	return o.NotBeforeNs <= n && n < o.ExpiresNs
}
