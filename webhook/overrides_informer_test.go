package webhook

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/overrides"
	"github.com/charter-dev/charter/overrides/overridestest"
)

// TestObjectEntry: an Override object is read as its file would be. What
// the apiserver and kubectl add (uid, resourceVersion, annotations, a
// status) changes nothing; what the council signed cannot be changed on the
// object (name, spec) without losing every signature, and fields the
// document does not have are refused.
func TestObjectEntry(t *testing.T) {
	dir := t.TempDir()
	c := overridestest.New(t, dir, overridestest.Options{})
	b, _, err := bundles.FromCharters([]string{c.Charter})
	if err != nil {
		t.Fatal(err)
	}
	v, err := overrides.NewVerifier(b.Info)
	if err != nil {
		t.Fatal(err)
	}
	signed := c.Override(t, overridestest.Request{ID: "debug-web"}, "alice", "bob")
	object := func(mutate func(obj map[string]any)) map[string]any {
		raw, err := json.Marshal(signed)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatal(err)
		}
		obj["metadata"] = map[string]any{"name": "debug-web", "uid": "0b1c", "resourceVersion": "42", "generation": 1,
			"creationTimestamp": "2026-12-02T03:00:00Z", "managedFields": []any{map[string]any{"manager": "kubectl"}},
			"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": "{}"}}
		if mutate != nil {
			mutate(obj)
		}
		return obj
	}
	spec := func(obj map[string]any) map[string]any { return obj["spec"].(map[string]any) }
	tests := []struct {
		name   string
		mutate func(obj map[string]any)
		want   error // nil: verifies
	}{
		{"as kubectl applied it", nil, nil},
		{"with a status", func(obj map[string]any) { obj["status"] = map[string]any{"state": "approved"} }, nil},
		{"unsigned", func(obj map[string]any) { delete(obj, "signatures") }, overrides.ErrApprovals},
		{"under-signed", func(obj map[string]any) { obj["signatures"] = obj["signatures"].([]any)[:1] }, overrides.ErrApprovals},
		{"renamed (replayed under another id)", func(obj map[string]any) { obj["metadata"].(map[string]any)["name"] = "debug-web-2" }, overrides.ErrApprovals},
		{"scope widened", func(obj map[string]any) { spec(obj)["scope"].(map[string]any)["name"] = "*" }, overrides.ErrApprovals},
		{"expiry extended", func(obj map[string]any) {
			spec(obj)["expires"] = time.Now().Add(50 * time.Minute).UTC().Format(time.RFC3339)
		}, overrides.ErrApprovals},
		{"another charter", func(obj map[string]any) { spec(obj)["charter"] = "other" }, overrides.ErrCharter},
		{"unknown spec field", func(obj map[string]any) { spec(obj)["approvedBy"] = "everyone" }, overrides.ErrMalformed},
		{"no spec", func(obj map[string]any) { delete(obj, "spec") }, overrides.ErrMalformed},
		{"another kind", func(obj map[string]any) { obj["kind"] = "Charter" }, overrides.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := object(tt.mutate)
			e := objectEntry(obj)
			if want := "Override " + obj["metadata"].(map[string]any)["name"].(string); e.Source != want {
				t.Errorf("source = %q, want %q", e.Source, want)
			}
			ev := overrides.Evaluate(v, []overrides.Entry{e}, time.Now())
			switch {
			case tt.want == nil && (len(ev.Set) != 1 || len(ev.Ignored) != 0):
				t.Fatalf("not verified: %+v", ev.Ignored)
			case tt.want != nil && (len(ev.Set) != 0 || len(ev.Ignored) != 1 || !errors.Is(ev.Ignored[0].Err, tt.want)):
				t.Fatalf("got set %v, ignored %+v; want ignored with %v", ev.Set, ev.Ignored, tt.want)
			}
			if tt.want != nil {
				t.Logf("ignored: %v", ev.Ignored[0].Err)
			}
		})
	}
}
