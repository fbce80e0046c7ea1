package webhook

import (
	"slices"
	"testing"
)

// TestRulesForPodTemplates: a charter's spec.podTemplates add the custom
// resources to the webhook's rules, in the group each template names (any
// group when it names none), for the operations of the Pod articles.
func TestRulesForPodTemplates(t *testing.T) {
	rules := RulesFor(infoOf(t, "../engine/testdata/podtemplates.yaml"))
	has := func(group, resource string) bool {
		for _, r := range rules.Main {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) &&
				slices.Contains(r.Operations, "CREATE") && slices.Contains(r.Operations, "UPDATE") {
				return true
			}
		}
		return false
	}
	for _, want := range [][2]string{{"argoproj.io", "rollouts"}, {"*", "clonesets"}, {"apps", "deployments"}, {"", "pods"}} {
		if !has(want[0], want[1]) {
			t.Errorf("no CREATE/UPDATE rule for %s %s in %+v", want[0], want[1], rules.Main)
		}
	}
	if has("*", "rollouts") {
		t.Errorf("rollouts sent from every group: %+v", rules.Main)
	}
	without := RulesFor(infoOf(t, "../policies/anti-delos.yaml"))
	for _, r := range without.Main {
		if slices.Contains(r.Resources, "rollouts") || slices.Contains(r.Resources, "clonesets") {
			t.Errorf("a charter without podTemplates sends %v", r.Resources)
		}
	}
}
