package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/engine"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

// servedLists is a discovery that serves fixed preferred resources.
type servedLists struct {
	discovery.DiscoveryInterface
	lists []*metav1.APIResourceList
}

func (d servedLists) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	return d.lists, nil
}

// deploymentOfTeamCharter is the charter both this package's and test/e2e's
// live cluster data tests decide with: a ConfigMap names a Deployment of
// team shop in its namespace; customKinds replaces its %s line.
func deploymentOfTeamCharter(t *testing.T, customKinds string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/deployment-of-team.charter.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.Replace(string(b), "%s", customKinds, 1))
}

func loadLiveCharter(t *testing.T, customKinds string) *engine.Engine {
	t.Helper()
	p := filepath.Join(t.TempDir(), "charter.yaml")
	if err := os.WriteFile(p, deploymentOfTeamCharter(t, customKinds), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, err := (&policyOptions{Charters: []string{p}}).load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestLiveClusterDataReadsWhatTheWebhookReads: a live scan's (and a live
// diff's) cluster data is read from exactly the resources the webhook's
// cache reads for the same bundle (webhook.ServedClusterDataResources: the
// built-in resource and each declared custom kind's group and plural), and
// of two objects with one namespace and name the built-in one counts, as at
// admission. Before, every group serving the kind name was read (an
// undeclared group's objects counted), and of a clash the object of the
// resource sorting last counted (example.com's over apps'), so a cluster
// query could decide otherwise in audit scan / diff --kubeconfig than at
// admission (review finding).
func TestLiveClusterDataReadsWhatTheWebhookReads(t *testing.T) {
	verbs := metav1.Verbs{"get", "list", "watch"}
	deployments := func(gv string) *metav1.APIResourceList {
		return &metav1.APIResourceList{GroupVersion: gv, APIResources: []metav1.APIResource{{Name: "deployments", Namespaced: true, Kind: "Deployment", Verbs: verbs}}}
	}
	appsGVR := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	exampleGVR := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "deployments"}
	otherGVR := schema.GroupVersionResource{Group: "other.example", Version: "v1", Resource: "deployments"}
	dep := func(apiVersion, name, team string) runtime.Object {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": "Deployment",
			"metadata": map[string]any{"name": name, "namespace": "shop", "labels": map[string]any{"team": team}}}}
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		appsGVR: "DeploymentList", exampleGVR: "DeploymentList", otherGVR: "DeploymentList",
	},
		dep("apps/v1", "web", "other"), dep("example.com/v1", "web", "shop"), // a clash: the built-in one counts
		dep("other.example/v1", "undeclared", "shop"), // a group no charter declares
		dep("example.com/v1", "custom", "shop"), dep("apps/v1", "builtin", "shop"))
	c := &cluster{dyn: dyn, disc: servedLists{lists: []*metav1.APIResourceList{deployments("apps/v1"), deployments("example.com/v1"), deployments("other.example/v1")}}}

	declared := loadLiveCharter(t, "  customKinds:\n  - {group: example.com, version: v1, kind: Deployment}")
	plain := loadLiveCharter(t, "")
	var warn bytes.Buffer
	es, err := liveClusterDataAll(context.Background(), c, 2, &warn, declared, plain)
	if err != nil {
		t.Fatal(err)
	}
	if warn.Len() > 0 {
		t.Errorf("warnings: %s", warn.String())
	}
	for _, tc := range []struct {
		deployment string
		// allowed under the charter declaring example.com's Deployment, and
		// under the one declaring none.
		declared, plain bool
	}{
		{"builtin", true, true},
		{"custom", true, false},      // only the charter declaring example.com reads it
		{"web", false, false},        // before: allowed under the declaring charter (example.com's sorted last)
		{"undeclared", false, false}, // before: allowed under both (every group serving Deployment was read)
		{"gone", false, false},
	} {
		cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "shop"}, "data": map[string]any{"deployment": tc.deployment}}
		for i, want := range []bool{tc.declared, tc.plain} {
			d, err := es[i].Decide(context.Background(), cm)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != want {
				t.Errorf("charter %d, a ConfigMap naming Deployment %s: allowed %v, want %v (%v)", i, tc.deployment, d.Allowed, want, d.All())
			}
		}
	}
	// Each resource is listed once for both charters.
	lists := map[schema.GroupVersionResource]int{}
	for _, a := range dyn.Actions() {
		if a.GetVerb() == "list" {
			lists[a.GetResource()]++
		}
	}
	if lists[appsGVR] != 1 || lists[exampleGVR] != 1 || lists[otherGVR] != 0 {
		t.Errorf("lists per resource: %v; want apps and example.com once each, other.example never", lists)
	}
}
