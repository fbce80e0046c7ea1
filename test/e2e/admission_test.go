package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
)

// untilDenied repeats try until the webhook's article shows in its error:
// the configuration has then taken effect.
func (s *scenario) untilDenied(article string, try func(n int) error) {
	s.t.Helper()
	n := 0
	s.eventually("the webhook configuration takes effect", func() bool {
		n++
		s.last = try(n)
		return s.last != nil && strings.Contains(s.last.Error(), article)
	})
}

func (s *scenario) probePrivileged() {
	s.t.Helper()
	s.untilDenied("AD-007", func(n int) error {
		return s.createPod(s.pod(fmt.Sprintf("probe-%d", n), func(p *corev1.Pod) { privileged(&p.Spec) }), true)
	})
}

func mergePatch(t *testing.T, cs kubernetes.Interface, ns, name, patch string, subresources ...string) error {
	t.Helper()
	_, err := cs.CoreV1().Pods(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, subresources...)
	return err
}

// TestUpdatesDoNotLockWorkloads (#7.4): a pod admitted before a stricter
// bundle (here: before the webhook) can be relabelled, have its finalizer
// removed and be deleted; adding a privileged ephemeral container is denied.
func TestUpdatesDoNotLockWorkloads(t *testing.T) {
	s := newScenario(t, "legacy")
	ctx := context.Background()
	pods := s.cs.CoreV1().Pods(s.name)
	legacy := s.pod("legacy", func(p *corev1.Pod) {
		privileged(&p.Spec)
		p.Finalizers = []string{"example.com/hold"}
	})
	if err := s.createPod(legacy, false); err != nil {
		t.Fatal(err)
	}
	wh := startWebhook(t, charterFile)
	s.register(wh.URL, wh.CA, "Fail", 3)
	s.probePrivileged()

	t.Run("relabelled", func(t *testing.T) {
		if err := mergePatch(t, s.cs, s.name, "legacy", `{"metadata":{"labels":{"tier":"web"}}}`); err != nil {
			t.Fatalf("relabelling a pod admitted before the bundle: %v", err)
		}
		w := strings.Join(s.warn.take(), "\n")
		if !strings.Contains(w, "[AD-007] already violated before this update, so not denied") {
			t.Errorf("warnings %q do not report the pre-existing violation", w)
		}
	})
	t.Run("privileged ephemeral container denied", func(t *testing.T) {
		p, err := pods.Get(ctx, "legacy", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debug", Image: "ghcr.io/charter-dev/debug:1.0.0",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		}}}
		_, err = pods.UpdateEphemeralContainers(ctx, "legacy", p, metav1.UpdateOptions{})
		if err == nil {
			t.Fatal("a privileged ephemeral container was added")
		}
		if !strings.Contains(err.Error(), "[AD-007]") || !strings.Contains(err.Error(), "spec.ephemeralContainers[0].securityContext.privileged") {
			t.Errorf("error %q does not name AD-007 at the ephemeral container", err)
		}
		t.Logf("kubectl debug would print: %v", err)
	})
	t.Run("finalizer removed and pod deleted", func(t *testing.T) {
		if err := pods.Delete(ctx, "legacy", metav1.DeleteOptions{}); err != nil {
			t.Fatalf("deleting the pod: %v", err)
		}
		if err := mergePatch(t, s.cs, s.name, "legacy", `{"metadata":{"finalizers":null}}`); err != nil {
			t.Fatalf("removing the finalizer of a terminating pod: %v", err)
		}
		s.eventually("the pod is gone", func() bool {
			_, err := pods.Get(ctx, "legacy", metav1.GetOptions{})
			s.last = err
			return err != nil && strings.Contains(err.Error(), "not found")
		})
	})
	decided := map[string]string{}
	for _, r := range wh.auditRecords(t) {
		if r.Object.Name == "legacy" {
			decided[r.Operation+"/"+r.Object.SubResource] = r.Decision
		}
	}
	for k, want := range map[string]string{"UPDATE/": "allowed", "UPDATE/ephemeralcontainers": "denied"} {
		if decided[k] != want {
			t.Errorf("webhook audit %s = %q, want %q (all: %v)", k, decided[k], want, decided)
		}
	}
}

// TestStatusCannotRemoveLabels (#15.3): removing AD-004's ownership labels
// through pods/status is decided and denied; a status update that leaves
// metadata alone is not even sent to the webhook (matchCondition).
func TestStatusCannotRemoveLabels(t *testing.T) {
	s := newScenario(t, "status")
	ctx := context.Background()
	pods := s.cs.CoreV1().Pods(s.name)
	wh := startWebhook(t, charterFile)
	s.register(wh.URL, wh.CA, "Fail", 3)
	s.probePrivileged()
	if err := s.createPod(s.pod("owned", nil), false); err != nil {
		t.Fatal(err)
	}

	p, err := pods.Get(ctx, "owned", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: "example.com/Checked", Status: corev1.ConditionTrue})
	if _, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("plain status update: %v", err)
	}

	err = mergePatch(t, s.cs, s.name, "owned", `{"metadata":{"labels":{"team":null,"app.kubernetes.io/name":null}}}`, "status")
	if err == nil {
		got, _ := pods.Get(ctx, "owned", metav1.GetOptions{})
		t.Fatalf("ownership labels removed through pods/status; labels now %v", got.Labels)
	}
	if !strings.Contains(err.Error(), "[AD-004]") {
		t.Errorf("error %q does not name AD-004", err)
	}
	t.Logf("kubectl patch --subresource=status would print: %v", err)
	if got, _ := pods.Get(ctx, "owned", metav1.GetOptions{}); got.Labels["team"] == "" {
		t.Errorf("labels = %v after the denied status patch", got.Labels)
	}

	// A PATCH decided on the apiserver's watch-cached object is decided
	// again when the cache was stale (etcd3 GuaranteedUpdate re-reads and
	// retries after an error), so repeated identical decisions count once.
	var statusRecords []string
	for _, r := range wh.auditRecords(t) {
		if r.Object.Name == "owned" && r.Object.SubResource == "status" {
			if n := len(statusRecords); n > 0 && statusRecords[n-1] == r.Decision {
				continue
			}
			statusRecords = append(statusRecords, r.Decision)
		}
	}
	if strings.Join(statusRecords, ",") != "denied" {
		t.Errorf("webhook decisions on owned/status = %v, want only the denied label removal", statusRecords)
	}
}

// TestDeclaredOperations (#7.5): a DELETE article and a pods/exec (CONNECT)
// article, registered with the rules `charter webhook config` derives from
// their charter, are enforced through the apiserver.
func TestDeclaredOperations(t *testing.T) {
	const charter = "testdata/operations.yaml"
	s := newScenario(t, "operations")
	ctx := context.Background()
	cms := s.cs.CoreV1().ConfigMaps(s.name)
	wh := startWebhook(t, charter)
	s.registerFor(charter, wh.URL, wh.CA, "Fail", 3)
	configMap := func(name string, protected bool) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if protected {
			cm.Labels = map[string]string{"protected": "true"}
		}
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	configMap("settings", true)
	s.untilDenied("OPS-DEL", func(int) error {
		return cms.Delete(ctx, "settings", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
	})

	t.Run("DELETE of a protected ConfigMap denied", func(t *testing.T) {
		err := cms.Delete(ctx, "settings", metav1.DeleteOptions{})
		if err == nil || !strings.Contains(err.Error(), "[OPS-DEL] ConfigMap settings is protected") {
			t.Fatalf("delete: %v", err)
		}
		if _, err := cms.Get(ctx, "settings", metav1.GetOptions{}); err != nil {
			t.Errorf("protected ConfigMap gone: %v", err)
		}
	})
	t.Run("DELETE of another ConfigMap allowed", func(t *testing.T) {
		configMap("scratch", false)
		if err := cms.Delete(ctx, "scratch", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	if err := s.createPod(s.pod("shell-target", nil), false); err != nil {
		t.Fatal(err)
	}
	exec := func(cmd ...string) error {
		return s.cs.CoreV1().RESTClient().Post().Namespace(s.name).Resource("pods").Name("shell-target").SubResource("exec").
			VersionedParams(&corev1.PodExecOptions{Container: "app", Command: cmd, Stdout: true}, scheme.ParameterCodec).
			Do(ctx).Error()
	}
	t.Run("exec of a shell denied", func(t *testing.T) {
		err := exec("sh", "-c", "id")
		if err == nil || !strings.Contains(err.Error(), "[OPS-EXEC] kubectl exec of a shell into shell-target is not allowed") {
			t.Fatalf("exec sh: %v", err)
		}
		t.Logf("kubectl exec would print: %v", err)
	})
	t.Run("exec of another command passes admission", func(t *testing.T) {
		// No kubelet runs here, so the exec itself fails after admission.
		err := exec("date")
		if err == nil || strings.Contains(err.Error(), "denied the request") {
			t.Fatalf("exec date: %v, want a failure after admission", err)
		}
		t.Logf("after admission: %v", err)
	})
	seen := map[string]string{}
	for _, r := range wh.auditRecords(t) {
		seen[r.Operation+" "+r.Object.Resource+"/"+r.Object.SubResource+" "+r.Object.Name] = r.Decision
	}
	for k, want := range map[string]string{
		"DELETE configmaps/ settings": "denied", "DELETE configmaps/ scratch": "allowed", "CONNECT pods/exec shell-target": "allowed",
	} {
		if seen[k] != want {
			t.Errorf("webhook audit %q = %q, want %q", k, seen[k], want)
		}
	}
}

// protobufClient sends objects as protobuf, as a client that wants a large
// object past the apiserver's 3 MiB request limit would: JSON would escape
// each '<' to six bytes on the way in, too.
func protobufClient(t *testing.T) *kubernetes.Clientset {
	t.Helper()
	cfg := env.RestConfig()
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// padding is 1.3 MB of '<': the pod passes the apiserver's 3 MiB request
// limit and etcd's 1.5 MiB, but the apiserver writes each '<' as \u003c in
// the AdmissionReview, so a CREATE review is 7.8 MB and an UPDATE 15.6 MB.
var padding = strings.Repeat("<", 1_300_000)

func padPod(p *corev1.Pod) {
	p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "PADDING", Value: padding})
}

// TestOversizedReviews (#15.1): under both failure policies, a privileged
// pod padded past 7 MiB of review is denied (decided, not failed open), a
// large compliant pod is admitted, and relabelling it (an UPDATE carrying
// both large objects) is decided too.
func TestOversizedReviews(t *testing.T) {
	for _, policy := range []string{"Fail", "Ignore"} {
		t.Run(policy, func(t *testing.T) {
			s := newScenario(t, "large-"+strings.ToLower(policy))
			ctx := context.Background()
			wh := startWebhook(t, charterFile)
			// 15 s, not deploy/'s 3 s: the point is that the review is decided,
			// and on a loaded machine the apiserver alone may spend seconds on
			// a 1.3 MB pod before it calls the webhook.
			s.register(wh.URL, wh.CA, policy, 15)
			s.probePrivileged()
			pb := protobufClient(t)
			create := func(p *corev1.Pod) error {
				_, err := pb.CoreV1().Pods(s.name).Create(ctx, p, metav1.CreateOptions{})
				return err
			}

			err := create(s.pod("large-privileged", func(p *corev1.Pod) { privileged(&p.Spec); padPod(p) }))
			if err == nil {
				t.Fatal("a large privileged pod was admitted")
			}
			if !strings.Contains(err.Error(), "[AD-007]") {
				t.Fatalf("large privileged pod refused, but not by a decision: %v", err)
			}
			if err := create(s.pod("large-compliant", padPod)); err != nil {
				t.Fatalf("large compliant pod: %v", err)
			}
			if err := mergePatch(t, pb, s.name, "large-compliant", `{"metadata":{"labels":{"tier":"web"}}}`); err != nil {
				t.Fatalf("relabelling the large compliant pod: %v", err)
			}
			if err := mergePatch(t, pb, s.name, "large-compliant", `{"metadata":{"labels":{"team":null}}}`); err == nil || !strings.Contains(err.Error(), "[AD-004]") {
				t.Fatalf("removing the team label of the large pod: %v, want AD-004", err)
			}
			// The apiserver may call a webhook more than once for one request
			// (it retries calls that fail in transit, and a 15.6 MB review on a
			// busy machine can), so repeated identical decisions count once.
			decided := map[string][]string{}
			for _, r := range wh.auditRecords(t) {
				if strings.HasPrefix(r.Object.Name, "large-") {
					d, seen := r.Operation+":"+r.Decision, decided[r.Object.Name]
					if len(seen) > 0 && seen[len(seen)-1] == d {
						continue
					}
					decided[r.Object.Name] = append(seen, d)
				}
			}
			if got := strings.Join(decided["large-privileged"], ","); got != "CREATE:denied" {
				t.Errorf("webhook decisions on large-privileged = %s", got)
			}
			if got := strings.Join(decided["large-compliant"], ","); got != "CREATE:allowed,UPDATE:allowed,UPDATE:denied" {
				t.Errorf("webhook decisions on large-compliant = %s", got)
			}
		})
	}
}
