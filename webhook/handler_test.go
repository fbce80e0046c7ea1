package webhook

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/engine"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestBadInput is the bad-input table: each case is a request the webhook
// must refuse with a precise status and a clear message, without deciding.
func TestBadInput(t *testing.T) {
	valid := review("CREATE", podObject("default", compliant))
	body := func(mutate func(m map[string]any)) []byte {
		m := review("CREATE", podObject("default", compliant))
		mutate(m)
		return mustJSON(t, m)
	}
	const limit = 1 << 20 // the default, MaxBodyBytes, is exercised by TestLargeReviewsDecided
	huge := bytes.Repeat([]byte(" "), limit+1)
	cases := []struct {
		name        string
		method      string
		contentType string
		body        []byte
		chunked     bool // no Content-Length: the limit must hold while reading
		code        int
		msg         string
	}{
		{"body over the limit", "", "application/json", huge, false, 413, "larger than 1048576 bytes"},
		{"body over the limit without length", "", "application/json", huge, true, 413, "larger than 1048576 bytes"},
		{"trailing data", "", "application/json", append(mustJSON(t, valid), []byte(`{}`)...), false, 400, "unexpected data after the AdmissionReview"},
		{"truncated", "", "application/json", mustJSON(t, valid)[:100], false, 400, "unexpected EOF"},
		{"text content type", "", "text/plain", mustJSON(t, valid), false, 415, "application/json"},
		{"yaml content type", "", "application/yaml", mustJSON(t, valid), false, 415, "application/json"},
		{"no content type", "", "", mustJSON(t, valid), false, 415, "application/json"},
		{"malformed json", "", "application/json", []byte(`{"apiVersion":`), false, 400, "decode AdmissionReview"},
		{"not an object", "", "application/json", []byte(`[1,2]`), false, 400, "decode AdmissionReview"},
		{"empty body", "", "application/json", nil, false, 400, "decode AdmissionReview"},
		{"missing request", "", "application/json", body(func(m map[string]any) { delete(m, "request") }), false, 400, "no request"},
		{"null request", "", "application/json", body(func(m map[string]any) { m["request"] = nil }), false, 400, "no request"},
		{"missing uid", "", "application/json", body(func(m map[string]any) { delete(m["request"].(map[string]any), "uid") }), false, 400, "no uid"},
		{"wrong apiVersion", "", "application/json", body(func(m map[string]any) { m["apiVersion"] = "admission.k8s.io/v1beta1" }), false, 400, "expected apiVersion admission.k8s.io/v1"},
		{"wrong kind", "", "application/json", body(func(m map[string]any) { m["kind"] = "Pod" }), false, 400, `kind "Pod"`},
		{"object is a string", "", "application/json", body(func(m map[string]any) { m["request"].(map[string]any)["object"] = "pod" }), false, 400, "request.object is not a JSON object"},
		{"wrong type for operation", "", "application/json", body(func(m map[string]any) { m["request"].(map[string]any)["operation"] = 7 }), false, 400, "decode AdmissionReview"},
		{"GET", http.MethodGet, "application/json", nil, false, 405, "POST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics(nil)
			sink := &memorySink{}
			h := NewHandler(HandlerOptions{Source: Fixed(fakeDecider{func(context.Context, any) (engine.Decision, error) {
				t.Error("a refused request reached the decider")
				return engine.Decision{Allowed: true}, nil
			}}), Metrics: m, Audit: sink, Logger: quiet, MaxBodyBytes: limit})
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			var r *http.Request
			if tc.chunked {
				r = httptest.NewRequest(method, "/validate", struct{ *bytes.Reader }{bytes.NewReader(tc.body)})
				r.ContentLength = -1
			} else {
				r = httptest.NewRequest(method, "/validate", bytes.NewReader(tc.body))
			}
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tc.code, w.Body.String())
			}
			if !strings.Contains(w.Body.String(), tc.msg) {
				t.Errorf("message %q does not contain %q", w.Body.String(), tc.msg)
			}
			if got := testutil.ToFloat64(m.Rejected.WithLabelValues(w.Result().Status[:3])); got != 1 {
				t.Errorf("charter_admission_rejected_requests_total = %v, want 1", got)
			}
			if len(sink.records) != 0 {
				t.Errorf("a refused request was audited as a decision: %+v", sink.records)
			}
		})
	}
}

// TestUndecided: when no decision can be made the webhook denies and says
// why, unless fail-open, in which case it admits with a warning.
func TestUndecided(t *testing.T) {
	panics := fakeDecider{func(context.Context, any) (engine.Decision, error) { panic("boom") }}
	fails := fakeDecider{func(context.Context, any) (engine.Decision, error) {
		return engine.Decision{}, errors.New("undefined function")
	}}
	// Ignores its context entirely: the handler must not wait for it.
	hangs := fakeDecider{func(context.Context, any) (engine.Decision, error) {
		time.Sleep(time.Hour)
		return engine.Decision{Allowed: true}, nil
	}}
	// Honours its context, like the engine does.
	slow := fakeDecider{func(ctx context.Context, _ any) (engine.Decision, error) {
		<-ctx.Done()
		return engine.Decision{}, ctx.Err()
	}}
	cases := []struct {
		name     string
		source   Source
		failOpen bool
		reason   string
		msg      string
	}{
		{"evaluation error", Fixed(fails), false, "error", "undefined function"},
		{"evaluation error fail-open", Fixed(fails), true, "error", "undefined function"},
		{"evaluation panic", Fixed(panics), false, "panic", "panicked: boom"},
		{"evaluation panic fail-open", Fixed(panics), true, "panic", "panicked: boom"},
		{"evaluation past deadline", Fixed(hangs), false, "timeout", "exceeded the 20ms deadline"},
		{"evaluation past deadline fail-open", Fixed(hangs), true, "timeout", "exceeded the 20ms deadline"},
		{"evaluation cancelled at deadline", Fixed(slow), false, "timeout", "exceeded the 20ms deadline"},
		{"no bundle loaded", NewHolder("testdata/none.tar.gz", HolderOptions{Logger: quiet}), false, "no_bundle", "no policy bundle is loaded"},
		{"no bundle loaded fail-open", NewHolder("testdata/none.tar.gz", HolderOptions{Logger: quiet}), true, "no_bundle", "no policy bundle is loaded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMetrics(nil)
			sink := &memorySink{}
			h := NewHandler(HandlerOptions{Source: tc.source, FailOpen: tc.failOpen, Timeout: 20 * time.Millisecond,
				Metrics: m, Audit: sink, Logger: quiet})
			resp := decodeResponse(t, post(h, "application/json", mustJSON(t, review("CREATE", podObject("default", compliant)))))
			if resp.UID != "705ab4f5-6393-11e8-b7cc-42010a800002" {
				t.Errorf("uid = %q", resp.UID)
			}
			if resp.Allowed != tc.failOpen {
				t.Fatalf("allowed = %v, want %v", resp.Allowed, tc.failOpen)
			}
			var msg string
			if tc.failOpen {
				if len(resp.Warnings) != 1 {
					t.Fatalf("warnings = %q, want one saying why", resp.Warnings)
				}
				msg = resp.Warnings[0]
			} else {
				if resp.Result == nil || resp.Result.Code != 403 {
					t.Fatalf("result = %+v, want code 403", resp.Result)
				}
				msg = resp.Result.Message
				if !strings.Contains(msg, "fail closed") {
					t.Errorf("message %q does not say it fails closed", msg)
				}
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not contain %q", msg, tc.msg)
			}
			if got := testutil.ToFloat64(m.EvalErrors.WithLabelValues(tc.reason)); got != 1 {
				t.Errorf("charter_evaluation_errors_total{reason=%q} = %v, want 1", tc.reason, got)
			}
			rec := sink.last(t)
			if rec.Evaluated || !strings.Contains(rec.Reason, tc.msg) {
				t.Errorf("audit record = %+v", rec)
			}
		})
	}
}

// panicSource panics where the handler asks for the decider: outside the
// evaluation guard, in the HTTP shell itself.
type panicSource struct{}

func (panicSource) Current() Decider { panic("shell bug") }

func TestHandlerPanicIsRecovered(t *testing.T) {
	m := NewMetrics(nil)
	h := NewHandler(HandlerOptions{Source: panicSource{}, Metrics: m, Logger: quiet})
	srv := httptest.NewServer(h)
	defer srv.Close()
	body := mustJSON(t, review("CREATE", podObject("default", compliant)))
	for i := range 3 { // the server keeps answering after each panic
		resp, err := srv.Client().Post(srv.URL+"/validate", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("request %d: status = %d, want 500", i, resp.StatusCode)
		}
	}
	if got := testutil.ToFloat64(m.Panics); got != 3 {
		t.Errorf("charter_http_panics_total = %v, want 3", got)
	}
}

// panicSink panics after the response is written: the decision stands, the
// panic is counted, and nothing more is written to the client.
type panicSink struct{}

func (panicSink) Append(context.Context, audit.Entry) error { panic("sink bug") }

// failingSink cannot write.
type failingSink struct{}

func (failingSink) Append(context.Context, audit.Entry) error { return errors.New("disk gone") }

// With AuditSync the answer waits for the audit record: a record that
// cannot be written fails the request, so the apiserver applies the
// failurePolicy instead of admitting an unrecorded decision. Without it the
// decision stands and the error is counted.
func TestAuditSyncFailsTheRequest(t *testing.T) {
	for _, sync := range []bool{true, false} {
		m := NewMetrics(nil)
		h := NewHandler(HandlerOptions{Source: Fixed(fakeDecider{func(context.Context, any) (engine.Decision, error) {
			return engine.Decision{Allowed: true}, nil
		}}), Audit: failingSink{}, AuditSync: sync, Metrics: m, Logger: quiet})
		w := post(h, "application/json", mustJSON(t, review("CREATE", podObject("default", compliant))))
		want := http.StatusOK
		if sync {
			want = http.StatusInternalServerError
		}
		if w.Code != want {
			t.Errorf("sync %v: status %d, want %d: %s", sync, w.Code, want, w.Body.String())
		}
		if got := testutil.ToFloat64(m.AuditErrors); got != 1 {
			t.Errorf("sync %v: charter_audit_write_errors_total = %v, want 1", sync, got)
		}
	}
}

func TestAuditPanicAfterAnswer(t *testing.T) {
	m := NewMetrics(nil)
	h := NewHandler(HandlerOptions{Source: Fixed(fakeDecider{func(context.Context, any) (engine.Decision, error) {
		return engine.Decision{Allowed: true}, nil
	}}), Audit: panicSink{}, Metrics: m, Logger: quiet})
	resp := decodeResponse(t, post(h, "application/json", mustJSON(t, review("CREATE", podObject("default", compliant)))))
	if !resp.Allowed {
		t.Error("decision lost")
	}
	if got := testutil.ToFloat64(m.Panics); got != 1 {
		t.Errorf("charter_http_panics_total = %v, want 1", got)
	}
}
