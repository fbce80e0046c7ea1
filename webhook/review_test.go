package webhook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/engine"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// padded is a pod carrying n bytes of '<' in an annotation: json.Marshal,
// like the apiserver, writes each as \u003c, six bytes.
func padded(n int, c container) map[string]any {
	p := labelled(podObject("default", c), map[string]any{"team": "shop"})
	p["metadata"].(map[string]any)["annotations"] = map[string]any{"padding": strings.Repeat("<", n)}
	return p
}

// sizeTestTimeout is the deadline of the tests of large reviews: decoding
// one (up to a second on an idle machine) counts against the deadline, and
// these tests are about size, not time.
const sizeTestTimeout = time.Minute

// paddingBytes is a 1.3 MB padding: the pod passes the apiserver's 3 MiB
// request limit and etcd's 1.5 MiB, and its review is past 7 MiB.
const paddingBytes = 1_300_000

// TestLargeReviewsDecided: every review the apiserver can send is decided,
// the largest (an UPDATE whose two objects are escaped six-fold) included.
func TestLargeReviewsDecided(t *testing.T) {
	d := loadEngine(t, "testdata/operations.yaml")
	for _, tc := range []struct {
		name    string
		review  map[string]any
		allowed bool
	}{
		{"privileged CREATE", review("CREATE", padded(paddingBytes, privileged)), false},
		{"compliant CREATE", review("CREATE", padded(paddingBytes, compliant)), true},
		{"privileged UPDATE", review("UPDATE", padded(paddingBytes, privileged), withOld(padded(paddingBytes, compliant))), false},
		{"largest UPDATE", review("UPDATE", padded(APIServerMaxRequestBytes-4096, privileged), withOld(padded(APIServerMaxRequestBytes-4096, compliant))), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := mustJSON(t, tc.review)
			h := NewHandler(HandlerOptions{Source: Fixed(d), Logger: quiet, FailOpen: true, Timeout: sizeTestTimeout})
			resp := decodeResponse(t, post(h, "application/json", body))
			if resp.Allowed != tc.allowed {
				t.Fatalf("%d-byte review: allowed = %v, want %v (%+v)", len(body), resp.Allowed, tc.allowed, resp.Result)
			}
			if !tc.allowed && !strings.Contains(resp.Result.Message, "[OP-001]") {
				t.Errorf("denial %q does not name OP-001", resp.Result.Message)
			}
			t.Logf("%d-byte review decided: allowed=%v", len(body), resp.Allowed)
		})
	}
}

// TestTooLargeIsDenied: a review past the limit whose uid was read is denied
// with an AdmissionReview, fail-open or not; without a uid it is a 413.
func TestTooLargeIsDenied(t *testing.T) {
	// The apiserver writes the request's uid first (admission/v1 field order).
	body := mustJSON(t, admissionv1.AdmissionReview{TypeMeta: reviewType, Request: &admissionv1.AdmissionRequest{
		UID: "705ab4f5-6393-11e8-b7cc-42010a800002", Operation: admissionv1.Create,
		Object: runtime.RawExtension{Raw: mustJSON(t, padded(4096, compliant))},
	}})
	sink := &memorySink{}
	m := NewMetrics(nil)
	h := NewHandler(HandlerOptions{Source: Fixed(fakeDecider{func(context.Context, any) (engine.Decision, error) {
		t.Error("a review too large to read reached the decider")
		return engine.Decision{Allowed: true}, nil
	}}), FailOpen: true, MaxBodyBytes: 2048, Audit: sink, Metrics: m, Logger: quiet})
	resp := decodeResponse(t, post(h, "application/json", body))
	if resp.Allowed || resp.UID != "705ab4f5-6393-11e8-b7cc-42010a800002" {
		t.Fatalf("response = %+v, want a denial for the request's uid", resp)
	}
	for _, want := range []string{"larger than 2048 bytes", "cannot decide it and denies it (fail closed)"} {
		if !strings.Contains(resp.Result.Message, want) {
			t.Errorf("message %q does not contain %q", resp.Result.Message, want)
		}
	}
	if rec := sink.last(t); rec.Decision != "denied" || rec.Evaluated || rec.UID == "" {
		t.Errorf("audit record = %+v", rec)
	}
}

// TestWholeRequestIsTheInput: the engine sees the AdmissionReview exactly as
// `opa run --server` does (util.UnmarshalJSON, ast.InterfaceToValue): options,
// userInfo.extra and uid, requestKind, subResource and fields charter does
// not know yet.
func TestWholeRequestIsTheInput(t *testing.T) {
	body := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
	 "uid":"u-1","kind":{"group":"","version":"v1","kind":"ConfigMap"},
	 "resource":{"group":"","version":"v1","resource":"configmaps"},
	 "requestKind":{"group":"","version":"v1","kind":"ConfigMap"},
	 "requestResource":{"group":"","version":"v1","resource":"configmaps"},
	 "requestSubResource":"","subResource":"","name":"settings","namespace":"default","operation":"UPDATE",
	 "userInfo":{"username":"bob","uid":"b-42","groups":["ops"],"extra":{"example.com/break-glass":["true"]}},
	 "object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"default"},"data":{"n":"1.50"}},
	 "oldObject":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"default"}},
	 "options":{"apiVersion":"meta.k8s.io/v1","kind":"UpdateOptions","fieldManager":"kubectl-edit"},
	 "dryRun":false,"futureField":{"x":[1,2.5e3,null]}}}`)
	rv, err := DecodeReview(body)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := util.UnmarshalJSON(body, &x); err != nil {
		t.Fatal(err)
	}
	want, err := ast.InterfaceToValue(x)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Input.Compare(want) != 0 {
		t.Fatalf("webhook input differs from opa's:\n%v\n%v", rv.Input, want)
	}

	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/operations.yaml")), Logger: quiet})
	resp := decodeResponse(t, post(h, "application/json", body))
	if resp.Allowed || !strings.Contains(resp.Result.Message, "[OP-005]") {
		t.Errorf("request.userInfo.extra and request.options were not decided on: %+v", resp.Result)
	}
	incident := bytes.Replace(body, []byte(`"kubectl-edit"`), []byte(`"incident"`), 1)
	if resp := decodeResponse(t, post(h, "application/json", incident)); !resp.Allowed {
		t.Errorf("request.options.fieldManager not read: %+v", resp.Result)
	}
}

// TestMetricLabelsBounded: kind and operation come from request bodies; values
// that are neither built in nor named by the bundle become "other", so a
// client cannot create series.
func TestMetricLabelsBounded(t *testing.T) {
	m := NewMetrics(nil)
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/operations.yaml")), Metrics: m, Logger: quiet})
	send := func(kind, op string) {
		body := mustJSON(t, review(op, map[string]any{"apiVersion": "v1", "kind": kind, "metadata": map[string]any{"name": "x", "namespace": "default"}},
			asKind("", kind, "things", "")))
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", kind, op, w.Code, w.Body.String())
		}
	}
	for i := range 50 {
		send("Kind"+strings.Repeat("x", i), "OP"+strings.Repeat("y", i))
	}
	send("Pod", "CREATE")
	send("ConfigMap", "DELETE")       // named by the bundle
	send("PodExecOptions", "CONNECT") // a subresource's kind
	got := map[string]bool{}
	ch := make(chan prometheusMetric, 100)
	go func() { m.Requests.Collect(ch); close(ch) }()
	for metric := range ch {
		got[labelsOf(t, metric)] = true
	}
	want := map[string]bool{
		"allowed|other|other": true, "denied|Pod|CREATE": true, "allowed|ConfigMap|DELETE": true, "allowed|PodExecOptions|CONNECT": true,
	}
	if len(got) != len(want) {
		t.Errorf("series = %v, want %v", got, want)
	}
	for s := range want {
		if !got[s] {
			t.Errorf("no series %s in %v", s, got)
		}
	}
}

// TestTooManyValuesIsDenied: a review under the body cap holding millions of
// tiny values is denied with its uid, not decoded into gigabytes.
func TestTooManyValuesIsDenied(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-many","operation":"CREATE",` +
		`"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"object":{"x":[0`)
	b.WriteString(strings.Repeat(",0", 2*MaxReviewValues))
	b.WriteString(`]}}}`)
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(t, "testdata/operations.yaml")), FailOpen: true, Logger: quiet, Timeout: sizeTestTimeout})
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	start := time.Now()
	resp := decodeResponse(t, post(h, "application/json", []byte(b.String())))
	goruntime.ReadMemStats(&after)
	t.Logf("%d-byte body: %s, %d MB allocated", b.Len(), time.Since(start), (after.TotalAlloc-before.TotalAlloc)>>20)
	if resp.Allowed || resp.UID != "u-many" || !strings.Contains(resp.Result.Message, "JSON values") {
		t.Fatalf("allowed=%v uid=%q %+v", resp.Allowed, resp.UID, resp.Result)
	}
}
