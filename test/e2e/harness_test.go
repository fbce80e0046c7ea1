package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/source"
	"github.com/charter-dev/charter/keys/keystest"
	"github.com/charter-dev/charter/webhook"
	"github.com/charter-dev/charter/webhook/certs"
	"github.com/sigstore/sigstore/pkg/signature"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// warnings collects the Warning headers the apiserver relays to the client.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// client returns a clientset and the warnings it receives.
func client(t *testing.T) (*kubernetes.Clientset, *warnings) {
	t.Helper()
	cfg := env.RestConfig()
	w := &warnings{}
	cfg.WarningHandler = w
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs, w
}

var _ rest.WarningHandler = (*warnings)(nil)

// charterWebhook is the webhook under test, in this process, on real TLS.
type charterWebhook struct {
	URL      string
	CA       []byte
	AuditLog string
	log      *audit.Log
	stop     context.CancelFunc
	done     chan error
}

func startWebhook(t *testing.T, charterPath string) *charterWebhook {
	t.Helper()
	return startWebhookWith(t, charterPath, nil)
}

// startWebhookWith starts the webhook with its options changed by mutate
// (when not nil) before it is built.
func startWebhookWith(t *testing.T, charterPath string, mutate func(*webhook.Options)) *charterWebhook {
	t.Helper()
	dir := t.TempDir()
	tlsDir := filepath.Join(dir, "tls")
	b, err := certs.Generate(certs.Options{Service: "charter-webhook", Namespace: "charter"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(tlsDir); err != nil {
		t.Fatal(err)
	}
	w := &charterWebhook{CA: b.CA, AuditLog: filepath.Join(dir, "audit.jsonl"), done: make(chan error, 1)}
	if w.log, err = audit.Open(w.AuditLog, audit.Options{Sync: true}); err != nil {
		t.Fatal(err)
	}
	// The webhook enforces a signed bundle and checks it with the key, as
	// deploy/ and the demo do (#8): the charter is compiled, signed and
	// loaded through the same verifying loader as --verify-key.
	key := keystest.Shared(t)
	o := webhook.Options{
		BundlePath: signedBundle(t, charterPath, dir, key),
		Loading:    webhook.Loading{Verify: source.Keys(key)},
		CertFile:   filepath.Join(tlsDir, certs.CertFile), KeyFile: filepath.Join(tlsDir, certs.KeyFile),
		Audit:     w.log,
		AuditSync: true,
		// The apiserver's timeoutSeconds bounds each call; the handler's own
		// deadline only has to outlast it (a 15.6 MB review on a loaded CI
		// machine takes seconds to read).
		Timeout:           25 * time.Second,
		ExcludeNamespaces: append([]string{"charter"}, webhook.DefaultExcludeNamespaces...),
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if mutate != nil {
		mutate(&o)
	}
	s, err := webhook.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.URL = "https://" + ln.Addr().String() + "/validate"
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	go func() { w.done <- s.Serve(ctx, ln) }()
	t.Cleanup(w.Stop)
	return w
}

// Stop shuts the webhook down and waits until it no longer listens.
func (w *charterWebhook) Stop() {
	if w.stop == nil {
		return
	}
	w.stop()
	<-w.done
	w.stop = nil
	_ = w.log.Close()
}

// auditRecords reads the webhook's JSON-lines audit log.
func (w *charterWebhook) auditRecords(t *testing.T) []webhook.AuditRecord {
	t.Helper()
	f, err := os.Open(w.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []webhook.AuditRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r webhook.AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// scenario gives each test its own namespace, and its webhook configuration
// a namespaceSelector on that namespace only, so configurations of other
// scenarios (and their propagation delay) never interfere.
type scenario struct {
	t    *testing.T
	name string
	cs   *kubernetes.Clientset
	warn *warnings
	last error // the last outcome an eventually condition saw, for its failure message
}

func newScenario(t *testing.T, name string) *scenario {
	needCluster(t)
	cs, w := client(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"charter-e2e": name}}}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return &scenario{t: t, name: name, cs: cs, warn: w}
}

// register creates a ValidatingWebhookConfiguration as `charter webhook
// config --charter anti-delos.yaml --url` prints it, narrowed to this
// scenario's namespace.
func (s *scenario) register(url string, ca []byte, failurePolicy string, timeoutSeconds int32) {
	s.t.Helper()
	s.registerFor(charterFile, url, ca, failurePolicy, timeoutSeconds)
}

// registerFor registers the webhook with the rules derived from the charter
// at charterPath. Ignore is accepted as `--i-understand-fail-open` does.
func (s *scenario) registerFor(charterPath, url string, ca []byte, failurePolicy string, timeoutSeconds int32) {
	s.t.Helper()
	b, _, err := bundles.FromCharters([]string{charterPath})
	if err != nil {
		s.t.Fatal(err)
	}
	cfg, err := webhook.Config(webhook.ConfigOptions{Name: s.name, URL: url, CABundle: ca, Rules: webhook.RulesFor(b.Info),
		FailurePolicy: failurePolicy, AcceptFailOpen: failurePolicy == "Ignore", TimeoutSeconds: timeoutSeconds, Namespace: "charter"})
	if err != nil {
		s.t.Fatal(err)
	}
	for i := range cfg.Webhooks {
		cfg.Webhooks[i].NamespaceSelector.MatchLabels = map[string]string{"charter-e2e": s.name}
	}
	api := s.cs.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	if _, err := api.Create(context.Background(), cfg, metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = api.Delete(context.Background(), s.name, metav1.DeleteOptions{}) })
}

// eventually polls cond until it holds. The apiserver picks up webhook
// configurations through an informer, within about a second; the bound is
// only there so a broken setup fails with a message instead of hanging.
func (s *scenario) eventually(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: never happened (last error: %v)\n%s", what, s.last, env.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fixture reads a shipped anti-delos test object into out, in this scenario's namespace.
func fixture(t *testing.T, name string, out metav1.Object) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "policies", "testdata", "anti-delos", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func (s *scenario) pod(name string, mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{}
	fixture(s.t, "pod-compliant.yaml", p)
	p.Name, p.Namespace = name, s.name
	if mutate != nil {
		mutate(p)
	}
	return p
}

func (s *scenario) createPod(p *corev1.Pod, dryRun bool) error {
	opts := metav1.CreateOptions{}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err := s.cs.CoreV1().Pods(s.name).Create(context.Background(), p, opts)
	return err
}

// apiserverAudit returns the annotations of the apiserver's audit events for
// the named object, stage ResponseComplete.
func apiserverAudit(t *testing.T, namespace, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(env.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Stage       string
			ObjectRef   struct{ Namespace, Name string }
			Annotations map[string]string
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Stage != "ResponseComplete" {
			continue
		}
		if ev.ObjectRef.Namespace == namespace && ev.ObjectRef.Name == name {
			out = append(out, ev.Annotations)
		}
	}
	return out
}

func hasAnnotationPrefix(events []map[string]string, prefix string) (string, bool) {
	for _, a := range events {
		for k, v := range a {
			if strings.HasPrefix(k, prefix) {
				return k + "=" + v, true
			}
		}
	}
	return "", false
}

// signedBundle compiles the charter at path into a bundle signed with key
// (serial 1) and writes it into dir.
func signedBundle(t *testing.T, path, dir string, key signature.SignerVerifier) string {
	t.Helper()
	b, _, err := bundles.FromCharters([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := bundles.Sign(b.Files, key, bundles.Release{Serial: 1})
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := signed.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bundle.tar.gz")
	if err := os.WriteFile(out, tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
