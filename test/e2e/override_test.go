package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/internal/promtest"
	"github.com/charter-dev/charter/overrides"
	"github.com/charter-dev/charter/overrides/overridestest"
	"github.com/charter-dev/charter/webhook"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// applyFile creates every object of a YAML file of deploy/ through the
// dynamic client (resource names as kubectl would map these kinds).
func applyFile(t *testing.T, dyn dynamic.Interface, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		u := &unstructured.Unstructured{Object: obj}
		gvr := map[string]string{"CustomResourceDefinition": "customresourcedefinitions", "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings"}[u.GetKind()]
		if gvr == "" {
			t.Fatalf("%s: unexpected kind %s", path, u.GetKind())
		}
		gv := u.GroupVersionKind().GroupVersion()
		if _, err := dyn.Resource(gv.WithResource(gvr)).Create(context.Background(), u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s: create %s %s: %v", path, u.GetKind(), u.GetName(), err)
		}
	}
}

// webhookToken is a token of the ServiceAccount charter-system/charter-webhook,
// which deploy/webhook/rbac.yaml binds: the webhook watches Override objects
// with exactly the rights deploy/ gives it.
func webhookToken(t *testing.T, s *scenario) *rest.Config {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "charter-system"}}
	if _, err := s.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "charter-webhook", Namespace: "charter-system"}}
	if _, err := s.cs.CoreV1().ServiceAccounts("charter-system").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	tr, err := s.cs.CoreV1().ServiceAccounts("charter-system").CreateToken(ctx, "charter-webhook",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(3600))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.RestConfig()
	cfg.BearerToken = tr.Status.Token
	return cfg
}

// metrics reads one sample of the webhook's /metrics (-1 when absent).
func (w *charterWebhook) metric(t *testing.T, sample string) float64 {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(w.CA)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "charter-webhook.charter.svc"}}}
	resp, err := c.Get(strings.TrimSuffix(w.URL, "/validate") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	v, err := promtest.Sample(string(body), sample)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOverrideObjects: the Override CRD from deploy/crds and the webhook's
// RBAC from deploy/webhook/rbac.yaml on the real apiserver. The webhook
// watches Override objects with a client-go informer under the
// ServiceAccount deploy/ binds (which may read them and nothing more).
// Unsigned, under-signed, expired, out-of-charter, revoked and
// other-namespace objects each lift nothing (each counted under its own
// reason); a 2-of-3 object admits the denied Pod with a warning and audit
// annotations naming it, and once it has expired the same Pod is denied
// again, without a restart.
func TestOverrideObjects(t *testing.T) {
	s := newScenario(t, "overrides")
	ctx := context.Background()
	dyn, err := dynamic.NewForConfig(env.RestConfig())
	if err != nil {
		t.Fatal(err)
	}
	applyFile(t, dyn, filepath.Join(root(t), "deploy", "crds", "overrides.charter.dev.yaml"))
	applyFile(t, dyn, filepath.Join(root(t), "deploy", "webhook", "rbac.yaml"))
	objects := dyn.Resource(webhook.OverrideResource)
	s.eventually("the Override CRD is served", func() bool {
		_, s.last = objects.List(ctx, metav1.ListOptions{})
		return s.last == nil
	})

	// The webhook's own credentials: read Override objects, write nothing.
	saConfig := webhookToken(t, s)
	saDyn, err := dynamic.NewForConfig(saConfig)
	if err != nil {
		t.Fatal(err)
	}
	// A charter denying privileged containers (AD-001), with a 2-of-3
	// council whose keys the test holds, revoking override revoked-1.
	c := overridestest.New(t, t.TempDir(), overridestest.Options{Name: "e2e-overrides", Revoked: []string{"revoked-1"}})
	// override is an Override object of article for Pods web-* in ns, valid
	// from notBefore to expires (to the second), signed by the members named.
	override := func(id, ns, article string, notBefore, expires time.Time, signers ...string) *unstructured.Unstructured {
		t.Helper()
		d := c.Override(t, overridestest.Request{ID: id, Articles: []string{article}, Scope: overrides.Scope{Namespace: ns, Kind: "Pod", Name: "web-*"},
			NotBefore: notBefore.Truncate(time.Second), Expires: expires.Truncate(time.Second)}, signers...)
		return &unstructured.Unstructured{Object: overridestest.Object(t, d)}
	}
	now := time.Now()
	probe := override("rbac-probe", s.name, "AD-001", now, now.Add(time.Minute))
	s.eventually("the ServiceAccount may list Override objects (RBAC bound)", func() bool {
		_, s.last = saDyn.Resource(webhook.OverrideResource).List(ctx, metav1.ListOptions{})
		return s.last == nil
	})
	if _, err := saDyn.Resource(webhook.OverrideResource).Create(ctx, probe, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the webhook's ServiceAccount created an Override object (err %v); its role must be read-only", err)
	}
	if _, err := saDyn.Resource(crdResource).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the webhook's ServiceAccount listed CRDs (err %v); it may read Override objects only", err)
	}

	inf := webhook.NewInformers(saDyn, 0)
	wh := startWebhookWith(t, c.Charter, func(o *webhook.Options) {
		o.OverrideObjects, o.Informers = true, inf
		o.ReloadInterval = 200 * time.Millisecond
	})
	s.eventually("the Override informer has synced", func() bool { return len(inf.Pending()) == 0 })
	s.registerFor(c.Charter, wh.URL, wh.CA, "Fail", 10)
	pod := func(name string) *corev1.Pod {
		return s.pod(name, func(p *corev1.Pod) { privileged(&p.Spec) })
	}
	s.untilDenied("AD-001", func(n int) error { return s.createPod(pod(fmt.Sprintf("web-probe-%d", n)), true) })

	create := func(u *unstructured.Unstructured) {
		t.Helper()
		if _, err := objects.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create Override %s: %v", u.GetName(), err)
		}
		t.Cleanup(func() { _ = objects.Delete(context.Background(), u.GetName(), metav1.DeleteOptions{}) })
	}
	stillDenied := func(what string) {
		t.Helper()
		err := s.createPod(pod("web-1"), true)
		if err == nil || !strings.Contains(err.Error(), "AD-001") {
			t.Fatalf("%s: web-1 not denied by AD-001: %v", what, err)
		}
	}

	// Each object that must not count, with the reason it is counted under.
	hour := time.Hour
	negative := []struct {
		name, reason string
		obj          *unstructured.Unstructured
	}{
		{"unsigned", "approvals", override("unsigned", s.name, "AD-001", now, now.Add(hour))},
		{"under-signed (1 of 2)", "approvals", override("under-signed", s.name, "AD-001", now, now.Add(hour), "alice")},
		{"expired", "expired", override("expired", s.name, "AD-001", now.Add(-2*time.Minute), now.Add(-time.Minute), "alice", "bob")},
		{"article outside the charter", "scope", override("out-of-charter", s.name, "AD-999", now, now.Add(hour), "alice", "bob")},
		{"revoked by the charter", "revoked", override("revoked-1", s.name, "AD-001", now, now.Add(hour), "bob", "carol")},
		{"lifetime over maxLifetime", "lifetime", override("too-long", s.name, "AD-001", now, now.Add(2*hour), "alice", "carol")},
	}
	want := map[string]float64{}
	for _, n := range negative {
		create(n.obj)
		want[n.reason]++
		sample := `charter_overrides_ignored{reason="` + n.reason + `"}`
		s.eventually(n.name+": counted under "+n.reason, func() bool { return wh.metric(t, sample) == want[n.reason] })
		stillDenied(n.name)
	}
	// A valid override for another namespace counts, and lifts nothing here.
	create(override("other-namespace", "payments", "AD-001", now, now.Add(hour), "alice", "bob"))
	s.eventually("the other namespace's override is in force", func() bool { return wh.metric(t, "charter_overrides_active") == 1 })
	stillDenied("an override for namespace payments")

	// A 2-of-3 override for this namespace, expiring in 60 s.
	start := time.Now()
	expires := start.Add(60 * time.Second).UTC().Truncate(time.Second) // as the document holds it
	valid := override("debug-web", s.name, "AD-001", start.Add(-time.Second), expires, "alice", "carol")
	create(valid)
	s.eventually("the 2-of-3 Override object admits web-1", func() bool {
		s.last = s.createPod(pod("web-1"), true)
		return s.last == nil
	})
	s.warn.take()
	if err := s.createPod(pod("web-1"), false); err != nil {
		t.Fatalf("web-1 under a valid override: %v", err)
	}
	if w := strings.Join(s.warn.take(), "\n"); !strings.Contains(w, "[AD-001] allowed by override debug-web: container") {
		t.Errorf("warnings %q do not name the override", w)
	}
	var annotation string
	s.eventually("the apiserver's audit event names the override", func() bool {
		var ok bool
		annotation, ok = hasAnnotationPrefix(apiserverAudit(t, s.name, "web-1"), "validate.charter.dev/override")
		return ok
	})
	if annotation != "validate.charter.dev/override=AD-001 by override debug-web" {
		t.Errorf("apiserver audit annotation = %q", annotation)
	}
	found := false
	for _, r := range wh.auditRecords(t) {
		if r.Object.Name == "web-1" && !r.DryRun && r.Decision == "allowed" && r.Override == "debug-web" {
			found = true
		}
	}
	if !found {
		t.Error("no audit record of the webhook admits web-1 naming override debug-web")
	}
	if got := wh.metric(t, `charter_override_lifted_total{article="AD-001"}`); got < 2 {
		t.Errorf("charter_override_lifted_total{article=AD-001} = %v, want at least 2 (a dry run and the create)", got)
	}
	if err := s.cs.CoreV1().Pods(s.name).Delete(ctx, "web-1", metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}); err != nil {
		t.Fatal(err)
	}
	s.eventually("web-1 is gone", func() bool {
		_, err := s.cs.CoreV1().Pods(s.name).Get(ctx, "web-1", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})

	// Expiry: the object is still there; the same Pod is denied again.
	s.eventually("the override has expired and web-1 is denied again", func() bool {
		s.last = s.createPod(pod("web-1"), false)
		return s.last != nil && strings.Contains(s.last.Error(), "AD-001")
	})
	if now := time.Now(); now.Before(expires) {
		t.Errorf("web-1 denied at %s, before the override expired at %s", now.Format(time.RFC3339Nano), expires.Format(time.RFC3339))
	}
	want["expired"]++
	s.eventually("the expired override is counted", func() bool { return wh.metric(t, `charter_overrides_ignored{reason="expired"}`) == want["expired"] })
	if _, err := objects.Get(ctx, "debug-web", metav1.GetOptions{}); err != nil {
		t.Errorf("the expired Override object: %v (it should still exist: expiry, not deletion, ended it)", err)
	}
	out, _ := json.Marshal(want)
	t.Logf("ignored by reason: %s; override in force from %s until %s", out, start.Format(time.RFC3339), expires.Format(time.RFC3339))
}
