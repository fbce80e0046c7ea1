package v1

import (
	"reflect"
	"testing"
)

func TestClusterKinds(t *testing.T) {
	q := func(kind string) *Condition { return &Condition{Cluster: &ClusterQuery{Kind: kind}} }
	p := &Program{Articles: []Article{
		{ID: "a", Violation: &Condition{Any: []*Condition{q("StorageClass"), {Not: q("Namespace")}}}},
		{ID: "b", Violation: &Condition{All: []*Condition{{Leaf: &Leaf{}}, q("Namespace")}}},
		{ID: "c", Violation: &Condition{Leaf: &Leaf{}}},
		{ID: "d"},
	}}
	if got, want := p.ClusterKinds(), []string{"Namespace", "StorageClass"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ClusterKinds = %v, want %v", got, want)
	}
	if got := (&Program{Articles: []Article{{ID: "c", Violation: &Condition{Leaf: &Leaf{}}}}}).ClusterKinds(); len(got) != 0 {
		t.Errorf("no cluster query: ClusterKinds = %v", got)
	}
}
