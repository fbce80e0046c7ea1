package webhook

import (
	"slices"
	"testing"

	"github.com/charter-dev/charter/compiler"
)

// TestRulesForCustomKinds: a kind the charter declares in spec.customKinds
// is routed from its own group under its declared plural, never from every
// group under a guessed one.
func TestRulesForCustomKinds(t *testing.T) {
	info := compiler.Info{
		Articles: map[string]compiler.ArticleInfo{
			"W": {Kinds: []string{"Widget"}, Operations: []string{"CREATE", "UPDATE"}},
		},
		CustomKinds: []compiler.CustomKind{{Group: "example.com", Version: "v1", Kind: "Widget", Plural: "gizmos", Namespaced: false}},
	}
	rules := RulesFor(info)
	var groups, resources []string
	for _, r := range append(rules.Main, rules.Status...) {
		groups = append(groups, r.APIGroups...)
		resources = append(resources, r.Resources...)
	}
	if len(rules.Main) != 1 || !slices.Equal(rules.Main[0].APIGroups, []string{"example.com"}) || !slices.Equal(rules.Main[0].Resources, []string{"gizmos"}) {
		t.Errorf("main rules %+v, want example.com gizmos only", rules.Main)
	}
	if len(rules.Status) != 1 || !slices.Equal(rules.Status[0].Resources, []string{"gizmos/status"}) {
		t.Errorf("status rules %+v, want example.com gizmos/status", rules.Status)
	}
	if slices.Contains(groups, "*") || slices.Contains(resources, "widgets") {
		t.Errorf("a declared kind is sent from every group or under a guessed plural: %v %v", groups, resources)
	}
}
