package engine

import (
	"context"
	"reflect"
	"testing"

	"github.com/charter-dev/charter/bundles"
	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
)

func path(steps ...programv1.Step) programv1.Path {
	return programv1.Path{Root: programv1.RootOther, Steps: steps}
}

func field(name string) programv1.Step { return programv1.Step{Kind: programv1.StepField, Name: name} }

var all = programv1.Step{Kind: programv1.StepAll}

// TestProject: only the paths' values, identity and type are kept; lists
// keep their length; Secret data and managed fields never survive.
func TestProject(t *testing.T) {
	ingress := func() map[string]any {
		return map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
			"metadata": map[string]any{"name": "shop", "namespace": "shop", "labels": map[string]any{"a": "b"}, "managedFields": []any{map[string]any{"manager": "k"}}},
			"spec":     map[string]any{"ingressClassName": "x", "rules": []any{map[string]any{"host": "a.example", "http": map[string]any{"paths": []any{}}}, map[string]any{"http": "x"}, "odd"}},
			"status":   map[string]any{"loadBalancer": map[string]any{}}}
	}
	id := map[string]any{"name": "shop", "namespace": "shop"}
	for _, tc := range []struct {
		name  string
		obj   map[string]any
		paths []programv1.Path
		want  map[string]any
	}{
		{"no paths: identity only", ingress(), nil,
			map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": id}},
		{"a path through a list keeps its length", ingress(), []programv1.Path{path(field("spec"), field("rules"), all, field("host"))},
			map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": id,
				"spec": map[string]any{"rules": []any{map[string]any{"host": "a.example"}, map[string]any{}, nil}}}},
		{"a path's value is kept whole", ingress(), []programv1.Path{path(field("metadata"), field("labels"))},
			map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": map[string]any{"name": "shop", "namespace": "shop", "labels": map[string]any{"a": "b"}}}},
		{"two paths unite, a wildcard over a map", ingress(), []programv1.Path{path(field("spec"), all, all, field("http")), path(field("spec"), field("rules"), all, field("host"))},
			map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": id,
				// spec[*][*].http walks ingressClassName too, a string: nothing kept
				"spec": map[string]any{"rules": []any{map[string]any{"host": "a.example", "http": map[string]any{"paths": []any{}}}, map[string]any{"http": "x"}, nil}}}},
		{"a missing path keeps nothing", ingress(), []programv1.Path{path(field("spec"), field("tls"))},
			map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": id, "spec": map[string]any{}}},
		{"Secret data never", map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}, "data": map[string]any{"k": "dg=="}, "type": "Opaque"},
			[]programv1.Path{path(field("data")), path(field("type"))},
			map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s"}, "type": "Opaque"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Project(tc.obj, tc.paths)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

// TestProjectDecidesTheSame: every test of the cluster-data example decides
// the same with its cluster objects projected to the fields the bundle
// reads as with the objects whole, natively and in OPA.
func TestProjectDecidesTheSame(t *testing.T) {
	b, c, err := bundles.FromCharters([]string{"../examples/charters/cluster-data.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	fields := e.ClusterFields()
	if got, want := len(fields), len(e.ClusterKinds()); got != want {
		t.Fatalf("ClusterFields has %d kinds, ClusterKinds %d", got, want)
	}
	ctx := context.Background()
	tests := 0
	for _, a := range c.Spec.Articles {
		for _, tc := range a.Tests {
			if tc.Object == nil {
				continue
			}
			var projected []map[string]any
			for _, o := range tc.Cluster {
				projected = append(projected, Project(o, fields[o["kind"].(string)]))
			}
			for _, opaOnly := range []bool{false, true} {
				var opts []Option
				if opaOnly {
					opts = append(opts, OPAOnly())
				}
				full, err := New(ctx, b, append(opts, WithClusterData(ClusterDocument(tc.Cluster)))...)
				if err != nil {
					t.Fatal(err)
				}
				proj, err := New(ctx, b, append(opts, WithClusterData(ClusterDocument(projected)))...)
				if err != nil {
					t.Fatal(err)
				}
				want, err := full.Decide(ctx, tc.Object)
				if err != nil {
					t.Fatal(err)
				}
				got, err := proj.Decide(ctx, tc.Object)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %q (opa only %v): projected %+v, whole %+v", a.ID, tc.Name, opaOnly, got, want)
				}
			}
			tests++
		}
	}
	if tests < 10 {
		t.Fatalf("only %d tests with objects", tests)
	}
}

// TestClusterArticles: the articles that query cluster data, with the
// kinds they match and read.
func TestClusterArticles(t *testing.T) {
	e := load(t, "../examples/charters/cluster-data.yaml")
	got := map[string][]string{}
	for _, a := range e.ClusterArticles() {
		got[a.ID+" "+a.Kinds[0]] = a.Reads
	}
	want := map[string][]string{
		"CD-001 Ingress": {"Ingress"}, "CD-002 Service": {"Service"}, "CD-003 PersistentVolumeClaim": {"StorageClass"},
		"CD-004 Deployment": {"PodDisruptionBudget"}, "CD-005 Pod": {"Namespace"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

type swapView struct{ v ast.Value }

func (s *swapView) ClusterValue() ast.Value { return s.v }

// TestClusterView: each decision reads the view as it is then; OPAOnly
// cannot take a view.
func TestClusterView(t *testing.T) {
	b, _, err := bundles.FromCharters([]string{"../examples/charters/cluster-data.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	view := &swapView{}
	e, err := New(ctx, b, WithClusterView(view))
	if err != nil {
		t.Fatal(err)
	}
	pvc := map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": map[string]any{"name": "d", "namespace": "shop"}, "spec": map[string]any{"storageClassName": "fast"}}
	for _, step := range []struct {
		objects []map[string]any
		allowed bool
	}{
		{nil, false},
		{[]map[string]any{{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": map[string]any{"name": "fast"}}}, true},
		{[]map[string]any{{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": map[string]any{"name": "slow"}}}, false},
	} {
		if view.v, err = clusterValue(ClusterDocument(step.objects)); err != nil {
			t.Fatal(err)
		}
		d, err := e.Decide(ctx, pvc)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != step.allowed {
			t.Fatalf("with %v: allowed %v, want %v (%+v)", step.objects, d.Allowed, step.allowed, d)
		}
	}
	if _, err := New(ctx, b, WithClusterView(view), OPAOnly()); err == nil {
		t.Fatal("OPAOnly with a cluster view: no error")
	}
}
