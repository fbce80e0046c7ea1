package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/webhook"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

const rolloutCharter = "testdata/rollouts.yaml"

var (
	crdResource     = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	rolloutResource = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"}
)

// rolloutCRD is shaped like Argo's: a namespaced Rollout whose spec (a pod
// template at spec.template among the rest) the apiserver keeps as sent.
func rolloutCRD() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "rollouts.argoproj.io"},
		"spec": map[string]any{
			"group": "argoproj.io", "scope": "Namespaced",
			"names": map[string]any{"kind": "Rollout", "plural": "rollouts", "singular": "rollout", "listKind": "RolloutList"},
			"versions": []any{map[string]any{
				"name": "v1alpha1", "served": true, "storage": true,
				"subresources": map[string]any{"status": map[string]any{}},
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"spec":   map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
						"status": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
					},
				}},
			}},
		},
	}}
}

// rollout is the compliant Deployment fixture as a canary Rollout.
func rollout(t *testing.T, ns, name string, privileged bool) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "policies", "testdata", "anti-delos", "deployment-compliant.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetAPIVersion("argoproj.io/v1alpha1")
	u.SetKind("Rollout")
	u.SetNamespace(ns)
	u.SetName(name)
	if err := unstructured.SetNestedField(u.Object, map[string]any{"canary": map[string]any{"steps": []any{map[string]any{"setWeight": int64(20)}}}}, "spec", "strategy"); err != nil {
		t.Fatal(err)
	}
	if privileged {
		containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		sc := containers[0].(map[string]any)["securityContext"].(map[string]any)
		sc["privileged"] = true
		delete(sc, "allowPrivilegeEscalation")
		if err := unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers"); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// TestRolloutPodTemplate: a custom resource shaped like an Argo Rollout is
// decided like a Deployment once the charter declares its pod template
// (podTemplates: [{apiGroup: argoproj.io, kind: Rollout, path: spec.template}]):
// `charter webhook config` sends rollouts to the webhook, and through the real
// apiserver a Rollout with a privileged template is denied (AD-007 at the
// template's field), as is an update that makes a stored one privileged,
// while a compliant Rollout is created and stored.
func TestRolloutPodTemplate(t *testing.T) {
	s := newScenario(t, "rollouts")
	ctx := context.Background()
	dyn, err := dynamic.NewForConfig(env.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	crds := dyn.Resource(crdResource)
	if _, err := crds.Create(ctx, rolloutCRD(), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = crds.Delete(context.Background(), "rollouts.argoproj.io", metav1.DeleteOptions{}) })
	rollouts := dyn.Resource(rolloutResource).Namespace(s.name)
	s.eventually("the Rollout CRD is served", func() bool {
		_, s.last = rollouts.List(ctx, metav1.ListOptions{})
		return s.last == nil
	})

	// The rules `charter webhook config` derives from the charter name rollouts.
	b, _, err := bundles.FromCharters([]string{rolloutCharter})
	if err != nil {
		t.Fatal(err)
	}
	rules := webhook.RulesFor(b.Info)
	var sent []string
	for _, r := range rules.Main {
		if slices.Contains(r.APIGroups, "argoproj.io") {
			sent = append(sent, r.Resources...)
		}
	}
	if !slices.Contains(sent, "rollouts") {
		t.Fatalf("webhook config rules send %v of argoproj.io, want rollouts", sent)
	}

	// Without the declaration, Anti-Delos alone neither sends rollouts nor
	// looks into their template: the gap podTemplates closes.
	plain, _, err := bundles.FromCharters([]string{charterFile})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range webhook.RulesFor(plain.Info).Main {
		if slices.Contains(r.APIGroups, "argoproj.io") || slices.Contains(r.Resources, "rollouts") {
			t.Fatalf("anti-delos alone sends %v of %v", r.Resources, r.APIGroups)
		}
	}
	e, err := engine.New(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := e.Decide(ctx, rollout(t, s.name, "privileged", true).Object); err != nil || !d.Allowed {
		t.Fatalf("anti-delos alone on a privileged Rollout: %+v, %v; want it unseen (allowed)", d, err)
	}

	wh := startWebhook(t, rolloutCharter)
	s.registerFor(rolloutCharter, wh.URL, wh.CA, "Fail", 3)

	n := 0
	s.eventually("a privileged Rollout is denied", func() bool {
		n++
		_, err := rollouts.Create(ctx, rollout(t, s.name, fmt.Sprintf("probe-%d", n), true), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		s.last = err
		return err != nil && strings.Contains(err.Error(), "AD-007")
	})

	t.Run("privileged template denied", func(t *testing.T) {
		_, err := rollouts.Create(ctx, rollout(t, s.name, "privileged", true), metav1.CreateOptions{})
		if err == nil {
			t.Fatal("a Rollout with a privileged template was admitted")
		}
		for _, want := range []string{`admission webhook "validate.charter.dev" denied the request`,
			"[AD-007] container app sets spec.template.spec.containers[0].securityContext.privileged: true"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
		if _, err := rollouts.Get(ctx, "privileged", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("the denied Rollout is stored (get: %v)", err)
		}
	})

	t.Run("compliant template created", func(t *testing.T) {
		if _, err := rollouts.Create(ctx, rollout(t, s.name, "checkout", false), metav1.CreateOptions{}); err != nil {
			t.Fatalf("compliant Rollout refused: %v", err)
		}
		got, err := rollouts.Get(ctx, "checkout", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("admitted Rollout not stored: %v", err)
		}
		if img, _, _ := unstructured.NestedSlice(got.Object, "spec", "template", "spec", "containers"); len(img) != 1 {
			t.Errorf("stored Rollout has %d containers, want its template as sent", len(img))
		}
	})

	t.Run("update to a privileged template denied", func(t *testing.T) {
		cur, err := rollouts.Get(ctx, "checkout", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		upd := rollout(t, s.name, "checkout", true)
		upd.SetResourceVersion(cur.GetResourceVersion())
		if _, err := rollouts.Update(ctx, upd, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), "[AD-007]") {
			t.Errorf("update to a privileged template: %v, want a denial naming AD-007", err)
		}
	})

	t.Run("webhook audit log has the decisions", func(t *testing.T) {
		// The webhook audits synchronously: each record is written before its answer.
		got := map[string]string{}
		for _, r := range wh.auditRecords(t) {
			if r.Object.Kind == "Rollout" && !r.DryRun && r.Operation == "CREATE" {
				got[r.Object.Name] = r.Decision
			}
		}
		if got["privileged"] != "denied" || got["checkout"] != "allowed" {
			t.Errorf("audit decisions for created Rollouts = %v, want privileged denied and checkout allowed", got)
		}
	})
}
