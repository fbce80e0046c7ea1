package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/compiler"
)

// TestRefusesUnknownProgramVersion: a bundle whose program is of a version
// this engine does not know is refused, natively and with OPA alone, rather
// than evaluated under a meaning it was not built for.
func TestRefusesUnknownProgramVersion(t *testing.T) {
	_, out, err := compiler.CompilePaths([]string{"testdata/charter.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	out.Program.Version = 2
	b, err := bundles.Compile(out)
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]Option{"native": nil, "opa only": {OPAOnly()}} {
		_, err := New(context.Background(), b, opts...)
		if err == nil || !strings.Contains(err.Error(), "program version 2 is not supported (this engine reads version 1)") {
			t.Errorf("%s: error = %v, want the unsupported program version named", name, err)
		}
	}
}

// TestBundleWithoutProgram: a bundle with no program (built by another tool)
// is decided by OPA alone.
func TestBundleWithoutProgram(t *testing.T) {
	_, out, err := compiler.CompilePaths([]string{"testdata/charter.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	out.Program = nil
	b, err := bundles.Compile(out)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if e.Native() {
		t.Error("an engine without a program evaluates natively")
	}
	d, err := e.Decide(context.Background(), pod(map[string]any{"name": "app", "securityContext": map[string]any{"privileged": true}}))
	if err != nil || d.Allowed {
		t.Errorf("decision = %+v, %v; want the privileged pod denied", d, err)
	}
}
