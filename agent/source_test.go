package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
)

// TestSourcesAgree reads the shipped Anti-Delos charter directly and through
// a compiled bundle: both must yield the same runtime rules, which compile.
func TestSourcesAgree(t *testing.T) {
	path := filepath.Join("..", "policies", "anti-delos.yaml")
	fromCharter, err := CharterSource{Paths: []string{path}}.Rules()
	if err != nil {
		t.Fatal(err)
	}
	c, err := charter.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := compiler.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	files, err := bundles.FromOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := files.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "bundle.tar.gz")
	if err := os.WriteFile(bundle, tgz, 0o600); err != nil {
		t.Fatal(err)
	}
	fromBundle, err := BundleSource{Path: bundle}.Rules()
	if err != nil {
		t.Fatal(err)
	}
	if len(fromCharter) == 0 || len(fromCharter) != len(fromBundle) {
		t.Fatalf("charter gave %d runtime rules, bundle %d", len(fromCharter), len(fromBundle))
	}
	for i := range fromCharter {
		if fromCharter[i].Article != fromBundle[i].Article {
			t.Errorf("rule %d: charter %s, bundle %s", i, fromCharter[i].Article, fromBundle[i].Article)
		}
	}
	e, err := Compile(fromBundle, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Exec) == 0 || len(e.NetAny) == 0 || len(e.OpenWrite) == 0 {
		t.Errorf("entries from the Anti-Delos charter: %d exec, %d net, %d open write", len(e.Exec), len(e.NetAny), len(e.OpenWrite))
	}
}
