package webhook

import (
	"slices"
	"strings"
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

// TestRulesForCustomKindsNamedLikeBuiltins: articles match objects by kind
// name alone, so a custom kind named like a built-in one (a Knative Service)
// is routed from its declared group and plural in addition to the built-in
// resource: before, only core services reached the webhook and Knative
// Services went unchecked (review finding).
func TestRulesForCustomKindsNamedLikeBuiltins(t *testing.T) {
	type ref struct{ group, resource string }
	for _, tc := range []struct {
		name   string
		kind   string
		custom []compiler.CustomKind
		want   []ref // main rules, every group and resource
	}{
		{"Knative Service", "Service",
			[]compiler.CustomKind{{Group: "serving.knative.dev", Version: "v1", Kind: "Service", Plural: "services", Namespaced: true}},
			[]ref{{"", "services"}, {"serving.knative.dev", "services"}}},
		{"a built-in kind outside the table", "Lease",
			[]compiler.CustomKind{{Group: "example.com", Version: "v1", Kind: "Lease", Plural: "tenancies", Namespaced: true}},
			[]ref{{"*", "leases"}, {"example.com", "tenancies"}}},
		{"two groups declare the kind", "Service",
			[]compiler.CustomKind{{Group: "serving.knative.dev", Version: "v1", Kind: "Service", Plural: "services"}, {Group: "example.com", Version: "v1", Kind: "Service", Plural: "svcs"}},
			[]ref{{"", "services"}, {"example.com", "svcs"}, {"serving.knative.dev", "services"}}},
		{"a built-in kind not declared", "Service", nil, []ref{{"", "services"}}},
	} {
		info := compiler.Info{
			Articles:    map[string]compiler.ArticleInfo{"A": {Kinds: []string{tc.kind}, Operations: []string{"CREATE", "UPDATE"}}},
			CustomKinds: tc.custom,
		}
		rules := RulesFor(info)
		var got, status []ref
		for _, r := range rules.Main {
			for _, res := range r.Resources {
				got = append(got, ref{r.APIGroups[0], res})
			}
		}
		for _, r := range rules.Status {
			for _, res := range r.Resources {
				status = append(status, ref{r.APIGroups[0], res})
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: main rules route %v, want %v", tc.name, got, tc.want)
		}
		for _, w := range tc.want {
			if !slices.Contains(status, ref{w.group, w.resource + "/status"}) {
				t.Errorf("%s: no status rule for %v: %v", tc.name, w, status)
			}
		}
	}
}

// TestConfigRoutesKnativeServices: `charter webhook config` for a charter
// declaring Knative's Service sends both core and Knative Services.
func TestConfigRoutesKnativeServices(t *testing.T) {
	out, err := ConfigYAML(ConfigOptions{Service: "charter-webhook", Namespace: "charter", CABundle: []byte("PEM"),
		Rules: RulesFor(infoOf(t, "testdata/knative.yaml"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  - apiGroups:\n    - \"\"\n    apiVersions:\n    - '*'\n    operations:\n    - CREATE\n    - UPDATE\n    resources:\n    - services\n",
		"  - apiGroups:\n    - serving.knative.dev\n    apiVersions:\n    - '*'\n    operations:\n    - CREATE\n    - UPDATE\n    resources:\n    - services\n",
		"  - apiGroups:\n    - serving.knative.dev\n    apiVersions:\n    - '*'\n    operations:\n    - UPDATE\n    resources:\n    - services/status\n",
		"    - example.com\n", "    - gizmos\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("config has no\n%s\nin:\n%s", want, out)
		}
	}
}
