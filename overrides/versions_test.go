package overrides

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestVersionsOfOneID is the negative table of versions of one override id
// side by side (a file and an Override object, or a replay): only signed
// fields choose between them. The version with the latest signed notBefore
// counts and older ones are superseded, so replaying an older version never
// cancels or replaces the current one; different versions with the same
// notBefore conflict and none counts; identical copies count once; a
// version that does not verify (forged, not yet valid) supersedes nothing.
func TestVersionsOfOneID(t *testing.T) {
	c := newCustodians(t)
	v, err := NewVerifier(c.info(t))
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(30 * time.Minute)
	version := func(notBefore time.Duration, change func(d *Document)) *Document {
		d := request()
		d.Spec.NotBefore = t0.Add(notBefore)
		if change != nil {
			change(d)
		}
		return sign(t, d, c.alice, c.bob)
	}
	current := func() *Document {
		return version(10*time.Minute, func(d *Document) { d.Spec.Scope.Name = "web-1"; d.Spec.Reason = "narrowed to web-1" })
	}
	older := func() *Document { return version(0, nil) } // scope web-*
	wideScope := func(d *Document) { d.Spec.Scope.Name = "*" }
	type want struct {
		scope   string // the scope name of the version in force ("" none)
		ignored map[string]Check
	}
	tests := []struct {
		name    string
		entries []Entry
		want    want
	}{
		{"older version replayed beside the newer", []Entry{
			{Source: "a-dir/debug.yaml", Doc: current()}, {Source: "b-object", Doc: older()},
		}, want{"web-1", map[string]Check{"b-object": CheckSuperseded}}},
		{"older version replayed beside the newer, other order", []Entry{
			{Source: "a-object", Doc: older()}, {Source: "b-dir/debug.yaml", Doc: current()},
		}, want{"web-1", map[string]Check{"a-object": CheckSuperseded}}},
		{"older version alone (the newer deleted): it counts, as deleting allows", []Entry{
			{Source: "a-object", Doc: older()},
		}, want{"web-*", map[string]Check{}}},
		{"two versions with different scopes, same notBefore", []Entry{
			{Source: "a", Doc: current()}, {Source: "b", Doc: version(10*time.Minute, wideScope)},
		}, want{"", map[string]Check{"a": CheckConflict, "b": CheckConflict}}},
		{"two versions with different scopes, different notBefore", []Entry{
			{Source: "a", Doc: version(5*time.Minute, wideScope)}, {Source: "b", Doc: older()},
		}, want{"*", map[string]Check{"b": CheckSuperseded}}},
		{"two conflicting newest versions and an older one: none counts", []Entry{
			{Source: "a", Doc: current()}, {Source: "b", Doc: version(10*time.Minute, wideScope)}, {Source: "c", Doc: older()},
		}, want{"", map[string]Check{"a": CheckConflict, "b": CheckConflict, "c": CheckSuperseded}}},
		{"identical duplicates count once", []Entry{
			{Source: "a-dir/debug.yaml", Doc: current()}, {Source: "b-object", Doc: current()},
		}, want{"web-1", map[string]Check{}}},
		{"same document, signatures in another order", []Entry{
			{Source: "a", Doc: current()},
			{Source: "b", Doc: func() *Document {
				d := current()
				d.Signatures[0], d.Signatures[1] = d.Signatures[1], d.Signatures[0]
				return d
			}()},
		}, want{"web-1", map[string]Check{}}},
		{"a later notBefore forged onto the older version supersedes nothing", []Entry{
			{Source: "a", Doc: current()},
			{Source: "b", Doc: func() *Document { d := older(); d.Spec.NotBefore = t0.Add(20 * time.Minute); return d }()},
		}, want{"web-1", map[string]Check{"b": CheckApprovals}}},
		{"an under-signed newer version supersedes nothing", []Entry{
			{Source: "a", Doc: older()},
			{Source: "b", Doc: func() *Document {
				d := request()
				d.Spec.NotBefore = t0.Add(20 * time.Minute)
				return sign(t, d, c.alice)
			}()},
		}, want{"web-*", map[string]Check{"b": CheckApprovals}}},
		{"a newer, shorter version that expired retires nothing: the older counts again", []Entry{
			{Source: "a", Doc: older()},
			{Source: "b", Doc: version(5*time.Minute, func(d *Document) {
				d.Spec.Scope.Name = "web-1"
				d.Spec.Expires = t0.Add(20 * time.Minute)
			})},
		}, want{"web-*", map[string]Check{"b": CheckExpired}}},
		{"a newer version not yet valid supersedes nothing yet", []Entry{
			{Source: "a", Doc: older()}, {Source: "b", Doc: version(45*time.Minute, wideScope)},
		}, want{"web-*", map[string]Check{"b": CheckNotYetValid}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Evaluate(v, tt.entries, now)
			outcome := func(ev *Evaluation) want {
				t.Helper()
				got := want{ignored: map[string]Check{}}
				switch len(ev.Set) {
				case 0:
				case 1:
					got.scope = ev.Set[0].Scope.Name
				default:
					t.Fatalf("%d overrides in force for one id: %v", len(ev.Set), ev.Set)
				}
				for _, i := range ev.Ignored {
					got.ignored[i.Source] = i.Check
				}
				return got
			}
			got := outcome(ev)
			if got.scope != tt.want.scope || !maps.Equal(got.ignored, tt.want.ignored) {
				t.Fatalf("in force %q, ignored %v; want %q, ignored %v", got.scope, got.ignored, tt.want.scope, tt.want.ignored)
			}
			// The same outcome whatever order the pool hands the entries in.
			rev := slices.Clone(tt.entries)
			slices.Reverse(rev)
			if again := outcome(Evaluate(v, rev, now)); again.scope != got.scope || !maps.Equal(again.ignored, got.ignored) {
				t.Errorf("entries in reverse order: in force %q, ignored %v", again.scope, again.ignored)
			}
			for _, i := range ev.Ignored {
				switch i.Check {
				case CheckSuperseded:
					if !errors.Is(i.Err, ErrSuperseded) || !strings.Contains(i.Err.Error(), "later notBefore") {
						t.Errorf("%s: %v", i.Source, i.Err)
					}
				case CheckConflict:
					if !errors.Is(i.Err, ErrConflict) || !strings.Contains(i.Err.Error(), "no version of it counts") {
						t.Errorf("%s: %v", i.Source, i.Err)
					}
				}
				t.Logf("%s: %v", i.Source, i.Err)
			}
		})
	}
}
