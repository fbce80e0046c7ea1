package plugin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/overrides"
	"github.com/charter-dev/charter/overrides/overridestest"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/plugins"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// TestOverridesInStore runs the plugin on an OPA manager with an in-memory
// store (run it with -race: the watcher writes while decisions read): only
// verified overrides reach data.charter_overrides, the bundle in the store
// claims that root, the native path decides with the same set, and a change
// of the directory (an override added, the directory gone) reaches both.
func TestOverridesInStore(t *testing.T) {
	c := overridestest.New(t, t.TempDir(), overridestest.Options{Article: "NO-PRIV", Members: []string{"alice", "bob"}})
	charterPath := c.Charter
	ovDir := filepath.Join(c.Dir, "overrides")
	if err := os.Mkdir(ovDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(id, pod string, signedBy ...string) {
		t.Helper()
		d := c.Override(t, overridestest.Request{ID: id, Scope: overrides.Scope{Namespace: "default", Kind: "Pod", Name: pod}}, signedBy...)
		overridestest.Write(t, filepath.Join(ovDir, id+".yaml"), d)
	}
	write("approved-1", "web-1", "alice", "bob")
	write("under-signed", "web-2", "alice")

	ctx := context.Background()
	raw, _ := json.Marshal(map[string]any{"bundle": charterPath, "overrides": ovDir, "poll_interval": "50ms"})
	m, err := plugins.New([]byte(`{}`), "test", inmem.New())
	if err != nil {
		t.Fatal(err)
	}
	f := NewFactory(nil)
	cfg, err := f.Validate(m, raw)
	if err != nil {
		t.Fatal(err)
	}
	p := f.New(m, cfg).(*Plugin)
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Stop(ctx)

	inStore := func() []string {
		t.Helper()
		var ids []string
		err := storage.Txn(ctx, m.Store, storage.TransactionParams{}, func(txn storage.Transaction) error {
			v, err := m.Store.Read(ctx, txn, overridesPath)
			if err != nil {
				return err
			}
			for id := range v.(map[string]any) {
				ids = append(ids, id)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("read data.charter_overrides: %v", err)
		}
		slices.Sort(ids)
		return ids
	}
	native := func() []string {
		var ids []string
		for _, v := range p.current().overridesOf().Set() {
			ids = append(ids, v.ID)
		}
		return ids
	}
	lifted := func(pod string) string {
		t.Helper()
		input := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": pod, "namespace": "default"},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "securityContext": map[string]any{"privileged": true}}}}}
		d, err := p.current().engine.DecideWith(ctx, input, p.current().overridesOf())
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(d.OverrideIDs(), ",")
	}
	eventually := func(step string, want []string) {
		t.Helper()
		end := time.Now().Add(10 * time.Second)
		for !slices.Equal(inStore(), want) || !slices.Equal(native(), want) {
			if time.Now().After(end) {
				t.Fatalf("%s: data.charter_overrides holds %v, the native path %v; want %v", step, inStore(), native(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	eventually("at start", []string{"approved-1"})
	if got := lifted("web-1"); got != "approved-1" {
		t.Errorf("web-1 lifted by %q, want approved-1", got)
	}
	if got := lifted("web-2"); got != "" {
		t.Errorf("web-2 (under-signed override) lifted by %q", got)
	}
	err = storage.Txn(ctx, m.Store, storage.TransactionParams{}, func(txn storage.Transaction) error {
		roots, err := bundle.ReadBundleRootsFromStore(ctx, m.Store, txn, Name)
		if err == nil && !slices.Contains(roots, "charter_overrides") {
			t.Errorf("the charter bundle in the store claims %v, not charter_overrides", roots)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	write("approved-2", "web-2", "alice", "bob")
	eventually("an override added", []string{"approved-1", "approved-2"})
	if got := lifted("web-2"); got != "approved-2" {
		t.Errorf("web-2 lifted by %q, want approved-2", got)
	}
	if err := os.Rename(ovDir, ovDir+".gone"); err != nil {
		t.Fatal(err)
	}
	eventually("the directory gone", nil)
	if got := lifted("web-1"); got != "" {
		t.Errorf("with the directory gone, web-1 lifted by %q", got)
	}
}
