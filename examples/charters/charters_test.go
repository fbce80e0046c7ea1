package charters

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/testrun"
)

// TestExamples runs every example charter's inline tests on both paths
// (native and OPA alone), and compares the two decisions on each test object.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example charters: %v", err)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			c, err := charter.Load(file)
			if err != nil {
				t.Fatalf("load:\n%v", err)
			}
			b, _, err := bundles.FromCharters([]string{file})
			if err != nil {
				t.Fatalf("build:\n%v", err)
			}
			ctx := context.Background()
			native, err := engine.New(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			opa, err := engine.New(ctx, b, engine.OPAOnly())
			if err != nil {
				t.Fatal(err)
			}
			tests := 0
			for name, e := range map[string]*engine.Engine{"native": native, "opa": opa} {
				for _, r := range testrun.Run(ctx, e, c, nil) {
					tests++
					if !r.Passed {
						t.Errorf("%s: %s: %s: %s", name, r.Name(), r.Pos, r.Detail)
					}
				}
			}
			if tests == 0 {
				t.Fatal("the charter has no tests")
			}
			for _, a := range c.Spec.Articles {
				for _, tc := range a.Tests {
					objects, err := testrun.Objects(tc)
					if err != nil {
						t.Fatal(err)
					}
					n, o := native, opa
					if len(tc.Cluster) > 0 {
						doc := engine.ClusterDocument(tc.Cluster)
						if n, err = native.WithClusterData(ctx, doc); err != nil {
							t.Fatal(err)
						}
						if o, err = opa.WithClusterData(ctx, doc); err != nil {
							t.Fatal(err)
						}
					}
					for _, obj := range objects {
						got, gerr := n.Decide(ctx, obj)
						want, werr := o.Decide(ctx, obj)
						if gerr != nil || werr != nil || !reflect.DeepEqual(got, want) {
							t.Errorf("%s/%s: native and OPA disagree\nnative: %+v (%v)\nopa:    %+v (%v)", a.ID, tc.Name, got, gerr, want, werr)
						}
					}
				}
			}
		})
	}
}
