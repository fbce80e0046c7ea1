package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/engine"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	admissionv1 "k8s.io/api/admission/v1"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func loadEngine(t testing.TB, path string) Decider {
	t.Helper()
	d, err := LoadEngine(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type container map[string]any

func podObject(ns string, cs ...container) map[string]any {
	list := make([]any, len(cs))
	for i, c := range cs {
		list[i] = map[string]any(c)
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "p", "namespace": ns},
		"spec":     map[string]any{"containers": list},
	}
}

var (
	privileged = container{"name": "app", "image": "registry.example/app:1",
		"securityContext": map[string]any{"privileged": true},
		"resources":       map[string]any{"limits": map[string]any{"memory": "128Mi"}}}
	compliant = container{"name": "app", "image": "registry.example/app:1",
		"resources": map[string]any{"limits": map[string]any{"memory": "128Mi"}}}
	noLimits  = container{"name": "app", "image": "registry.example/app:1"}
	dockerHub = container{"name": "app", "image": "docker.io/library/nginx",
		"resources": map[string]any{"limits": map[string]any{"memory": "128Mi"}}}
)

// review builds an AdmissionReview body for object.
func review(op string, object map[string]any, mutate ...func(req map[string]any)) map[string]any {
	md := object["metadata"].(map[string]any)
	req := map[string]any{
		"uid":       "705ab4f5-6393-11e8-b7cc-42010a800002",
		"kind":      map[string]any{"group": "", "version": "v1", "kind": object["kind"]},
		"resource":  map[string]any{"group": "", "version": "v1", "resource": "pods"},
		"name":      md["name"],
		"namespace": md["namespace"],
		"operation": op,
		"userInfo":  map[string]any{"username": "alice", "groups": []any{"dev"}},
		"object":    object,
	}
	for _, m := range mutate {
		m(req)
	}
	return map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends body to h and returns the recorder.
func post(h http.Handler, contentType string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decodeResponse(t testing.TB, w *httptest.ResponseRecorder) *admissionv1.AdmissionResponse {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(w.Body.Bytes(), &ar); err != nil {
		t.Fatal(err)
	}
	if ar.APIVersion != "admission.k8s.io/v1" || ar.Kind != "AdmissionReview" || ar.Response == nil {
		t.Fatalf("not an AdmissionReview response: %s", w.Body.String())
	}
	return ar.Response
}

// memorySink keeps audit records for assertions.
type memorySink struct {
	mu      sync.Mutex
	records []AuditRecord
}

func (m *memorySink) Append(_ context.Context, e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, *e.(*AuditRecord))
	return nil
}

func (m *memorySink) last(t testing.TB) AuditRecord {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.records) == 0 {
		t.Fatal("no audit record")
	}
	return m.records[len(m.records)-1]
}

// fakeDecider lets tests choose how evaluation behaves.
type fakeDecider struct {
	decide func(ctx context.Context, input any) (engine.Decision, error)
}

func (f fakeDecider) Decide(ctx context.Context, input any) (engine.Decision, error) {
	return f.decide(ctx, input)
}

func (fakeDecider) Revision() string { return "fake" }

type prometheusMetric = prometheus.Metric

// labelsOf renders a metric's label values as "v1|v2|...", in label-name order.
func labelsOf(t testing.TB, m prometheus.Metric) string {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, l := range pb.GetLabel() {
		byName[l.GetName()] = l.GetValue()
	}
	return byName["decision"] + "|" + byName["kind"] + "|" + byName["operation"]
}
