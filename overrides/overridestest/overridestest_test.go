package overridestest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/overrides"
)

// TestCouncil: the charter compiles with its council, k of n members'
// signatures verify and fewer do not, a written file and an object read
// back as the signed document, and key files are written when asked for.
func TestCouncil(t *testing.T) {
	dir := t.TempDir()
	c := New(t, dir, Options{Name: "e2e", Revoked: []string{"revoked-1"}, KeyFiles: true})
	b, _, err := bundles.FromCharters([]string{c.Charter})
	if err != nil {
		t.Fatal(err)
	}
	v, err := overrides.NewVerifier(b.Info)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := v.Verify(c.Override(t, Request{}, "alice", "carol"), now); err != nil {
		t.Errorf("2 of 3: %v", err)
	}
	if _, err := v.Verify(c.Override(t, Request{}, "bob"), now); !errors.Is(err, overrides.ErrApprovals) {
		t.Errorf("1 of 3: %v, want %v", err, overrides.ErrApprovals)
	}
	if _, err := v.Verify(c.Override(t, Request{ID: "revoked-1"}, "alice", "bob"), now); !errors.Is(err, overrides.ErrRevoked) {
		t.Errorf("revoked id: %v, want %v", err, overrides.ErrRevoked)
	}
	d := c.Override(t, Request{ID: "as-file"}, "alice", "bob")
	path := filepath.Join(dir, "overrides", "as-file.yaml")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	Write(t, path, d)
	if e := overrides.ReadFile(path); e.Err != nil {
		t.Errorf("written file: %v", e.Err)
	} else if _, err := v.Verify(e.Doc, now); err != nil {
		t.Errorf("written file: %v", err)
	}
	if obj := Object(t, d); obj["kind"] != overrides.Kind || obj["metadata"].(map[string]any)["name"] != "as-file" || len(obj["signatures"].([]any)) != 2 {
		t.Errorf("object = %v", obj)
	}
	for _, m := range []string{"alice", "bob", "carol"} {
		for _, ext := range []string{".key", ".pub"} {
			if _, err := os.Stat(filepath.Join(dir, m+ext)); err != nil {
				t.Error(err)
			}
		}
	}
}
