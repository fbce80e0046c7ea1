package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charter-dev/charter/webhook/certs"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

const charterFile = "../../policies/anti-delos.yaml"

func privileged(p *corev1.PodSpec) {
	sc := p.Containers[0].SecurityContext
	sc.Privileged = ptr.To(true)
	sc.AllowPrivilegeEscalation = nil // privileged with allowPrivilegeEscalation=false fails validation before admission
}

// TestCharterWebhook registers the charter webhook (Anti-Delos charter) by
// URL with its caBundle and drives it through client-go.
func TestCharterWebhook(t *testing.T) {
	s := newScenario(t, "shop")
	wh := startWebhook(t, charterFile)
	s.register(wh.URL, wh.CA, "Fail", 3)
	ctx := context.Background()

	n := 0
	s.eventually("the webhook configuration takes effect", func() bool {
		n++
		err := s.createPod(s.pod(fmt.Sprintf("probe-%d", n), func(p *corev1.Pod) { privileged(&p.Spec) }), true)
		s.last = err
		return err != nil && strings.Contains(err.Error(), "AD-007")
	})

	t.Run("privileged pod denied with the article's message", func(t *testing.T) {
		err := s.createPod(s.pod("privileged", func(p *corev1.Pod) { privileged(&p.Spec) }), false)
		if err == nil {
			t.Fatal("privileged pod admitted")
		}
		msg := err.Error()
		for _, want := range []string{
			`admission webhook "validate.charter.dev" denied the request`,
			"[AD-007] container app sets spec.containers[0].securityContext.privileged: true; remove securityContext.privileged",
		} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not contain %q", msg, want)
			}
		}
		t.Logf("kubectl would print: %s", msg)
	})

	t.Run("compliant pod admitted", func(t *testing.T) {
		if err := s.createPod(s.pod("compliant", nil), false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.cs.CoreV1().Pods(s.name).Get(ctx, "compliant", metav1.GetOptions{}); err != nil {
			t.Fatalf("admitted pod not stored: %v", err)
		}
		if w := s.warn.take(); len(w) != 0 {
			t.Errorf("compliant pod got warnings %q", w)
		}
	})

	t.Run("deployment with a privileged template denied", func(t *testing.T) {
		d := &appsv1.Deployment{}
		fixture(t, "deployment-compliant.yaml", d)
		d.Namespace = s.name
		privileged(&d.Spec.Template.Spec)
		_, err := s.cs.AppsV1().Deployments(s.name).Create(ctx, d, metav1.CreateOptions{})
		if err == nil {
			t.Fatal("privileged deployment admitted")
		}
		if !strings.Contains(err.Error(), "[AD-007]") || !strings.Contains(err.Error(), "spec.template.spec.containers[0].securityContext.privileged") {
			t.Errorf("error %q does not name AD-007 and the template field", err)
		}
	})

	t.Run("warn article arrives as a warning", func(t *testing.T) {
		s.warn.take()
		p := s.pod("writable", func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = ptr.To(false) })
		if err := s.createPod(p, false); err != nil {
			t.Fatalf("warn-only pod denied: %v", err)
		}
		w := strings.Join(s.warn.take(), "\n")
		if !strings.Contains(w, "[AD-014] container app has a writable root filesystem") {
			t.Errorf("warnings %q do not carry AD-014", w)
		}
	})

	t.Run("audit article recorded in the apiserver audit log", func(t *testing.T) {
		d := &appsv1.Deployment{}
		fixture(t, "deployment-compliant.yaml", d)
		d.Name, d.Namespace = "no-probe", s.name
		d.Spec.Template.Spec.Containers[0].LivenessProbe = nil
		if _, err := s.cs.AppsV1().Deployments(s.name).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatalf("audit-only deployment denied: %v", err)
		}
		var got string
		s.eventually("the audit event is written", func() bool {
			var ok bool
			got, ok = hasAnnotationPrefix(apiserverAudit(t, s.name, "no-probe"), "validate.charter.dev/AD-016")
			return ok
		})
		t.Logf("apiserver audit annotation: %s", got)
	})

	t.Run("server-side dry run decided and marked", func(t *testing.T) {
		err := s.createPod(s.pod("dry-privileged", func(p *corev1.Pod) { privileged(&p.Spec) }), true)
		if err == nil || !strings.Contains(err.Error(), "[AD-007]") {
			t.Fatalf("dry-run of a privileged pod: %v", err)
		}
		if err := s.createPod(s.pod("dry-compliant", nil), true); err != nil {
			t.Fatalf("dry-run of a compliant pod: %v", err)
		}
		if _, err := s.cs.CoreV1().Pods(s.name).Get(ctx, "dry-compliant", metav1.GetOptions{}); err == nil {
			t.Error("a dry-run pod was stored")
		}
		marked := map[string]string{}
		for _, r := range wh.auditRecords(t) {
			if r.DryRun && strings.HasPrefix(r.Object.Name, "dry-") {
				marked[r.Object.Name] = r.Decision
			}
		}
		if marked["dry-privileged"] != "denied" || marked["dry-compliant"] != "allowed" {
			t.Errorf("webhook audit dry-run records = %v", marked)
		}
	})

	t.Run("webhook audit log has every decision", func(t *testing.T) {
		recs := wh.auditRecords(t)
		byName := map[string]string{}
		for _, r := range recs {
			if r.Bundle.Revision == "" || r.User != "admin" || r.UID == "" {
				t.Errorf("incomplete audit record %+v", r)
			}
			byName[r.Object.Name] = r.Decision
		}
		for name, want := range map[string]string{"privileged": "denied", "compliant": "allowed", "checkout": "denied", "writable": "allowed", "no-probe": "allowed"} {
			if byName[name] != want {
				t.Errorf("audit decision for %s = %q, want %q", name, byName[name], want)
			}
		}
	})
}

// TestWebhookDown: with the webhook unreachable, failurePolicy decides.
func TestWebhookDown(t *testing.T) {
	for _, tc := range []struct{ policy, ns string }{{"Fail", "down-fail"}, {"Ignore", "down-ignore"}} {
		t.Run(tc.policy, func(t *testing.T) {
			s := newScenario(t, tc.ns)
			wh := startWebhook(t, charterFile)
			url, ca := wh.URL, wh.CA
			wh.Stop() // registered, but nobody listens any more
			s.register(url, ca, tc.policy, 2)
			checkFailurePolicy(t, s, tc.policy, "failed calling webhook")
		})
	}
}

// TestWebhookSlow: a webhook slower than timeoutSeconds is handled as the
// failurePolicy says.
func TestWebhookSlow(t *testing.T) {
	for _, tc := range []struct{ policy, ns string }{{"Fail", "slow-fail"}, {"Ignore", "slow-ignore"}} {
		t.Run(tc.policy, func(t *testing.T) {
			s := newScenario(t, tc.ns)
			url, ca, calls := slowWebhook(t, 3*time.Second)
			s.register(url, ca, tc.policy, 1)
			checkFailurePolicy(t, s, tc.policy, "context deadline exceeded")
			if calls.Load() == 0 {
				t.Error("the apiserver never called the slow webhook")
			}
		})
	}
}

// checkFailurePolicy creates compliant pods until the configuration is in
// force (Fail: the error appears; Ignore: the apiserver's failed-open audit
// annotation appears), then checks one more create answers the same way.
func checkFailurePolicy(t *testing.T, s *scenario, policy, failure string) {
	t.Helper()
	n := 0
	var last error
	create := func() (string, error) {
		n++
		name := fmt.Sprintf("pod-%d", n)
		last = s.createPod(s.pod(name, nil), false)
		return name, last
	}
	switch policy {
	case "Fail":
		s.eventually("failurePolicy Fail denies", func() bool {
			_, err := create()
			return err != nil && strings.Contains(err.Error(), failure)
		})
		if _, err := create(); err == nil || !strings.Contains(err.Error(), failure) {
			t.Fatalf("failurePolicy Fail admitted: %v", err)
		}
		t.Logf("denied: %v", last)
	case "Ignore":
		s.eventually("failurePolicy Ignore admits past the failed webhook", func() bool {
			name, err := create()
			if err != nil {
				t.Fatalf("failurePolicy Ignore denied: %v", err)
			}
			_, ok := hasAnnotationPrefix(apiserverAudit(t, s.name, name), "failed-open.validating.webhook.admission.k8s.io/")
			return ok
		})
		name, err := create()
		if err != nil {
			t.Fatalf("failurePolicy Ignore denied: %v", err)
		}
		s.eventually("the failed-open audit annotation is written", func() bool {
			_, ok := hasAnnotationPrefix(apiserverAudit(t, s.name, name), "failed-open.validating.webhook.admission.k8s.io/")
			return ok
		})
	}
}

// slowWebhook serves /validate over TLS but answers only after delay.
func slowWebhook(t *testing.T, delay time.Duration) (string, []byte, *atomic.Int64) {
	t.Helper()
	b, err := certs.Generate(certs.Options{Service: "slow", Namespace: "charter"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(b.Cert, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	calls := &atomic.Int64{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		http.Error(w, "too late", http.StatusServiceUnavailable)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/validate", b.CA, calls
}
