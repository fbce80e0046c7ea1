package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The language's UPDATE rules and parameters through the real apiserver
// (issue 13): examples/charters/update-rules.yaml compares the object with
// the request's oldObject, examples/charters/team-limits.yaml instantiates
// container-limits.yaml twice with other values and scopes. The join of the
// same file (JOIN-001, a volumeMount must name a volume) cannot be shown
// here: the apiserver's own validation refuses such a pod before any
// validating webhook is called; charter test and eval cover it.

const (
	updateRulesFile = "../../examples/charters/update-rules.yaml"
	teamLimitsFile  = "../../examples/charters/team-limits.yaml"
)

func TestUpdateRulesWebhook(t *testing.T) {
	s := newScenario(t, "update-rules")
	wh := startWebhookWith(t, updateRulesFile, nil)
	s.registerFor(updateRulesFile, wh.URL, wh.CA, "Fail", 10)
	ctx := context.Background()
	deployments := s.cs.AppsV1().Deployments(s.name)

	d := &appsv1.Deployment{}
	fixture(t, "deployment-compliant.yaml", d)
	d.Namespace, d.Name = s.name, "web"
	d.Spec.Template.Spec.ServiceAccountName = "web"
	if _, err := deployments.Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create (UPDATE rules do not apply): %v", err)
	}
	update := func(mutate func(*appsv1.Deployment), dryRun bool) error {
		cur, err := deployments.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(cur)
		opts := metav1.UpdateOptions{}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		_, err = deployments.Update(ctx, cur, opts)
		return err
	}
	toAdmin := func(d *appsv1.Deployment) { d.Spec.Template.Spec.ServiceAccountName = "admin" }
	s.eventually("the webhook configuration takes effect", func() bool {
		err := update(toAdmin, true)
		s.last = err
		return err != nil && strings.Contains(err.Error(), "UPD-001")
	})

	t.Run("changing the service account is denied", func(t *testing.T) {
		err := update(toAdmin, false)
		if err == nil {
			t.Fatal("service account change admitted")
		}
		for _, want := range []string{`denied the request`, "[UPD-001] Deployment web: spec.template.spec.serviceAccountName may not change"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
		cur, err := deployments.Get(ctx, "web", metav1.GetOptions{})
		if err != nil || cur.Spec.Template.Spec.ServiceAccountName != "web" {
			t.Errorf("stored service account %q (%v), want web", cur.Spec.Template.Spec.ServiceAccountName, err)
		}
	})
	t.Run("other changes are admitted", func(t *testing.T) {
		if err := update(func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image += "-patched"
			d.Labels = map[string]string{"changed": "yes"}
		}, false); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("node taints may not be removed", func(t *testing.T) {
		nodes := s.cs.CoreV1().Nodes()
		name := "e2e-taints"
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule},
			{Key: "gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule},
		}}}
		if _, err := nodes.Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create node with taints: %v", err)
		}
		t.Cleanup(func() { _ = nodes.Delete(context.Background(), name, metav1.DeleteOptions{}) })
		// Each update starts from the stored node: the node lifecycle
		// controller adds taints of its own (node.kubernetes.io/not-ready),
		// and dropping those is a removal too.
		updateNode := func(mutate func([]corev1.Taint) []corev1.Taint) error {
			cur, err := nodes.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			cur.Spec.Taints = mutate(cur.Spec.Taints)
			_, err = nodes.Update(ctx, cur, metav1.UpdateOptions{})
			return err
		}
		err := updateNode(func(ts []corev1.Taint) []corev1.Taint {
			return slices.DeleteFunc(ts, func(t corev1.Taint) bool { return t.Key == "dedicated" })
		})
		if err == nil || !strings.Contains(err.Error(), `[UPD-002] Node e2e-taints: taint {"effect":"NoSchedule","key":"dedicated","value":"db"}`) {
			t.Fatalf("removing the dedicated taint: %v, want a UPD-002 denial", err)
		}
		if err := updateNode(func(ts []corev1.Taint) []corev1.Taint {
			return append(ts, corev1.Taint{Key: "new", Effect: corev1.TaintEffectNoExecute})
		}); err != nil {
			t.Fatalf("adding a taint: %v", err)
		}
	})

	t.Run("the join's case never reaches a webhook", func(t *testing.T) {
		p := s.pod("bad-mount", func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "missing", MountPath: "/missing"})
		})
		err := s.createPod(p, false)
		if err == nil || !strings.Contains(err.Error(), "volumeMounts[1].name: Not found") || strings.Contains(err.Error(), "JOIN-001") {
			t.Fatalf("got %v, want the apiserver's own validation error (not JOIN-001)", err)
		}
	})

	var ids []string
	for _, r := range wh.auditRecords(t) {
		for _, a := range r.Articles {
			ids = append(ids, r.Decision+":"+a.ID)
		}
	}
	for _, want := range []string{"denied:UPD-001", "denied:UPD-002"} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Errorf("audit log %v has no %s record", ids, want)
		}
	}
}

// TestParameterisedCharterWebhook: one bundle, two instances of one
// charter: the same pod is denied in a prod-* namespace (prod's limits) and
// admitted with a warning in a dev-* one (dev's smaller limits, action warn).
func TestParameterisedCharterWebhook(t *testing.T) {
	prod, dev := newScenario(t, "prod-e2e"), newScenario(t, "dev-e2e")
	wh := startWebhookWith(t, teamLimitsFile, nil)
	prod.registerFor(teamLimitsFile, wh.URL, wh.CA, "Fail", 10)
	dev.registerFor(teamLimitsFile, wh.URL, wh.CA, "Fail", 10)
	pod := func(s *scenario, name, cpu, memory string) *corev1.Pod {
		return s.pod(name, func(p *corev1.Pod) {
			c := &p.Spec.Containers[0]
			c.ImagePullPolicy = corev1.PullAlways
			c.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
			c.Resources.Requests = nil
			for i := range p.Spec.InitContainers {
				p.Spec.InitContainers[i].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")}
				p.Spec.InitContainers[i].Resources.Requests = nil
			}
		})
	}
	n := 0
	prod.eventually("the webhook configuration takes effect", func() bool {
		n++
		err := prod.createPod(pod(prod, fmt.Sprintf("probe-%d", n), "1", "16Gi"), true)
		prod.last = err
		return err != nil && strings.Contains(err.Error(), "prod.LIM-001")
	})

	t.Run("16Gi is over prod's limit", func(t *testing.T) {
		err := prod.createPod(pod(prod, "big", "1", "16Gi"), false)
		if err == nil || !strings.Contains(err.Error(), "[prod.LIM-001]") || !strings.Contains(err.Error(), "memory 8Gi") {
			t.Fatalf("got %v, want a prod.LIM-001 denial naming prod's 8Gi", err)
		}
	})
	t.Run("within prod's limits", func(t *testing.T) {
		if err := prod.createPod(pod(prod, "fits", "3", "4Gi"), false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("dev warns with its own smaller limits", func(t *testing.T) {
		dev.eventually("the webhook configuration takes effect in dev", func() bool {
			n++
			dev.warn.take()
			err := dev.createPod(pod(dev, fmt.Sprintf("probe-%d", n), "3", "1Gi"), true)
			dev.last = err
			return err == nil && strings.Contains(strings.Join(dev.warn.take(), "\n"), "dev.LIM-001")
		})
		dev.warn.take()
		if err := dev.createPod(pod(dev, "three-cpus", "3", "1Gi"), false); err != nil {
			t.Fatalf("dev's instance warns, it does not deny: %v", err)
		}
		w := strings.Join(dev.warn.take(), "\n")
		if !strings.Contains(w, "dev.LIM-001") || !strings.Contains(w, "cpu 500m") {
			t.Errorf("warnings %q, want dev.LIM-001 naming dev's 500m", w)
		}
	})
}
