package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/engine"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DefaultTimeout is the evaluation deadline: below the apiserver's
// timeoutSeconds (3 s in deploy/), so the webhook answers "denied, and why"
// before the apiserver gives up and applies failurePolicy on its own.
const DefaultTimeout = 2 * time.Second

// DefaultExcludeNamespaces are admitted without evaluation, so the control
// plane can always heal itself. The webhook's own namespace is added by the
// caller.
var DefaultExcludeNamespaces = []string{"kube-system", "kube-node-lease"}

// HandlerOptions configure a Handler. Only Source is required.
type HandlerOptions struct {
	Source            Source
	FailOpen          bool
	Timeout           time.Duration // DefaultTimeout when zero
	ExcludeNamespaces []string
	MaxBodyBytes      int64 // MaxBodyBytes when zero
	// DecodeBudget bounds the decoding memory of concurrent reviews; share
	// one between the handlers of a process. NewDecodeBudget(0) when nil.
	DecodeBudget *DecodeBudget
	Audit        audit.Sink // audit.Discard when nil
	// AuditSync answers only once the record is in the audit log; when it
	// cannot be written the request fails (HTTP 500) and the apiserver
	// applies the webhook's failurePolicy.
	AuditSync bool
	Metrics   *Metrics     // unregistered metrics when nil
	Logger    *slog.Logger // slog.Default() when nil
}

// Handler answers AdmissionReview requests. It is an http.Handler and holds
// no mutable state of its own, so it serves any number of requests at once.
type Handler struct {
	src      Source
	failOpen bool
	timeout  time.Duration
	exclude  map[string]bool
	limit    int64
	budget   *DecodeBudget
	audit    audit.Sink
	sync     bool
	metrics  *Metrics
	kinds    *kindLabels
	log      *slog.Logger
}

// NewHandler builds a Handler from o.
func NewHandler(o HandlerOptions) *Handler {
	h := &Handler{src: o.Source, failOpen: o.FailOpen, timeout: o.Timeout, limit: o.MaxBodyBytes, budget: o.DecodeBudget,
		audit: o.Audit, sync: o.AuditSync, metrics: o.Metrics, log: o.Logger, exclude: map[string]bool{}, kinds: &kindLabels{}}
	if h.timeout <= 0 {
		h.timeout = DefaultTimeout
	}
	if h.limit <= 0 {
		h.limit = MaxBodyBytes
	}
	if h.budget == nil {
		h.budget = NewDecodeBudget(0)
	}
	if h.audit == nil {
		h.audit = audit.Discard
	}
	if h.metrics == nil {
		h.metrics = NewMetrics(nil)
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	for _, ns := range o.ExcludeNamespaces {
		h.exclude[ns] = true
	}
	return h
}

// ServeHTTP decodes the review, decides, writes the response, then audits
// (with AuditSync, audits first).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	answered := false
	defer func() {
		// A panic outside evaluation (evaluation has its own guard) is a bug
		// in this shell: answer 500 so the apiserver applies failurePolicy,
		// and keep serving.
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.metrics.Panics.Inc()
			h.log.Error("panic in admission handler", "panic", fmt.Sprint(p), "path", r.URL.Path, "answered", answered)
			if !answered {
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}
	}()
	if r.Method != http.MethodPost {
		h.reject(w, &RequestError{Code: http.StatusMethodNotAllowed, Msg: "use POST"})
		return
	}
	// One deadline for the request: reading and decoding the body, then
	// deciding the object and, for an UPDATE, the old object.
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	r = h.withDeadline(ctx, w, r)
	// The review holds its decoding cost from the budget until it is
	// answered; it waits for it, within the deadline, after its head.
	body := h.budget.body(ctx, r.Body, DecodeCost(h.declared(r)), h.metrics)
	defer body.Release()
	r.Body = body
	var resp *admissionv1.AdmissionResponse
	var rec AuditRecord
	review, err := ReadReview(r, h.limit)
	if err != nil {
		re, ok := IsRequestError(err)
		if !ok {
			re = badRequest("%v", err)
		}
		if !re.unread() {
			h.reject(w, re)
			return
		}
		// Not read (too large, not within the deadline, no memory for it),
		// but it has a uid: deny it outright, so no failurePolicy can turn an unread
		// review into an admission.
		h.metrics.Rejected.WithLabelValues(strconv.Itoa(re.Code)).Inc()
		drain(r.Body)
		resp, rec = h.notRead(re)
	} else {
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		resp, rec = h.Decide(ctx, review)
	}
	if h.sync {
		if err := h.audit.Append(r.Context(), &rec); err != nil {
			h.metrics.AuditErrors.Inc()
			h.log.Error("audit record not written; not answering", "uid", rec.UID, "err", err)
			h.reject(w, &RequestError{Code: http.StatusInternalServerError, Msg: "audit log unavailable"})
			return
		}
	}
	out, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: reviewType, Response: resp})
	if err != nil {
		// Nothing in a response fails to encode; if it ever does, say so.
		h.reject(w, &RequestError{Code: http.StatusInternalServerError, Msg: "encode response: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	answered = true
	_, _ = w.Write(out)
	body.Release()
	h.metrics.Requests.WithLabelValues(rec.Decision, h.kinds.label(h.src, rec.Object.Kind), operationLabel(rec.Operation)).Inc()
	h.metrics.Latency.WithLabelValues(rec.Decision).Observe(time.Since(start).Seconds())
	if h.sync {
		return
	}
	if err := h.audit.Append(r.Context(), &rec); err != nil {
		h.metrics.AuditErrors.Inc()
		h.log.Error("audit record not written", "uid", rec.UID, "err", err)
	}
}

func (h *Handler) reject(w http.ResponseWriter, e *RequestError) {
	h.metrics.Rejected.WithLabelValues(strconv.Itoa(e.Code)).Inc()
	h.log.Warn("admission request refused", "code", e.Code, "reason", e.Msg)
	http.Error(w, e.Msg, e.Code)
}

// declared is the body size a request is charged for: its Content-Length,
// or the body limit when it has none (or a larger one).
func (h *Handler) declared(r *http.Request) int64 {
	if r.ContentLength < 0 || r.ContentLength > h.limit {
		return h.limit
	}
	return r.ContentLength
}

// withDeadline returns r reading its body under ctx's deadline: the
// connection's read deadline is set to it, so a stalled body stops there,
// and each read checks it, so a trickling one does too.
func (h *Handler) withDeadline(ctx context.Context, w http.ResponseWriter, r *http.Request) *http.Request {
	if dl, ok := ctx.Deadline(); ok {
		// Not supported by every ResponseWriter (httptest's): the check on
		// each read still holds.
		_ = http.NewResponseController(w).SetReadDeadline(dl)
	}
	r = r.WithContext(ctx)
	r.Body = &deadlineBody{ctx: ctx, ReadCloser: r.Body, timeout: h.timeout}
	return r
}

// Decide answers one decoded review and describes the decision for the audit
// log. It decides within ctx's deadline (ServeHTTP's, which the decoding
// shared), or within the handler's timeout when ctx has none. Every operation is decided: the bundle's articles say which ones they
// match. Requests in excluded namespaces are allowed without evaluation; an
// evaluation that fails or overruns the deadline denies unless fail-open.
//
// An UPDATE that changes only metadata and status is denied only for
// violations it introduces: a violation the old object already had is
// reported as a warning. So, as under Pod Security Admission, a workload
// admitted before a stricter bundle can still be relabelled or have its
// finalizers removed, while removing a required label is denied. An UPDATE
// that changes anything else is decided in full.
func (h *Handler) Decide(ctx context.Context, review *Review) (*admissionv1.AdmissionResponse, AuditRecord) {
	req := review.Request
	rec := newRecord(req)
	if req.Namespace != "" && h.exclude[req.Namespace] {
		rec.Decision, rec.Reason = "skipped", "namespace "+req.Namespace+" is excluded"
		return allowResponse(req.UID), rec
	}
	d := h.src.Current()
	if d == nil {
		return h.undecided(req, &rec, "no_bundle", "no policy bundle is loaded")
	}
	rec.Bundle = auditBundle(d)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.timeout)
		defer cancel()
	}
	dec, err := h.evaluate(ctx, d, review.Input)
	if err == nil && !dec.Allowed && req.Operation == admissionv1.Update {
		dec = h.introduced(ctx, d, review.Input, dec)
	}
	if err == nil {
		dec = decidedOnly(d, string(req.Operation), dec)
	}
	if err != nil {
		reason := "error"
		var pe *panicError
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			reason = "timeout"
		case errors.As(err, &pe):
			reason = "panic"
		}
		return h.undecided(req, &rec, reason, err.Error())
	}
	rec.Evaluated = true
	rec.Articles = auditArticles(dec.All())
	rec.Override = strings.Join(dec.OverrideIDs(), ",")
	for _, f := range dec.Overridden {
		h.metrics.OverrideLifted.WithLabelValues(f.Article).Inc()
	}
	rec.Decision = "allowed"
	if !dec.Allowed {
		rec.Decision = "denied"
	}
	return Response(req.UID, dec), rec
}

func newRecord(req *admissionv1.AdmissionRequest) AuditRecord {
	return AuditRecord{
		Header:    audit.Header{Time: time.Now().UTC(), Source: "webhook"},
		UID:       string(req.UID),
		User:      req.UserInfo.Username,
		Operation: string(req.Operation),
		Object: ObjectRef{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind,
			Resource: req.Resource.Resource, SubResource: req.SubResource, Namespace: req.Namespace, Name: req.Name},
		DryRun: req.DryRun != nil && *req.DryRun,
	}
}

// notRead denies a review that was not read (too large, not within the
// deadline, no decoding memory for it), whatever fail-open says: it was not evaluated, and an unread
// object must never be admitted.
func (h *Handler) notRead(re *RequestError) (*admissionv1.AdmissionResponse, AuditRecord) {
	msg := re.Msg + "; charter cannot decide it and denies it (fail closed)"
	h.log.Error("admission request not read; denied", "uid", re.UID, "code", re.Code, "reason", re.Msg)
	rec := AuditRecord{Header: audit.Header{Time: time.Now().UTC(), Source: "webhook", Decision: "denied"}, UID: re.UID, Reason: msg}
	return errorResponse(types.UID(re.UID), msg, false), rec
}

// drain reads what is left of a body without keeping it, so the client gets
// the answer on an intact connection. It stops after drainLimit bytes.
func drain(body io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
}

// drainLimit bounds what drain reads: far more than the apiserver sends.
const drainLimit = 8 * MaxBodyBytes

func (h *Handler) undecided(req *admissionv1.AdmissionRequest, rec *AuditRecord, reason, msg string) (*admissionv1.AdmissionResponse, AuditRecord) {
	h.metrics.EvalErrors.WithLabelValues(reason).Inc()
	h.log.Error("admission request not decided", "uid", req.UID, "reason", reason, "err", msg, "failOpen", h.failOpen)
	rec.Reason = msg
	rec.Decision = "denied"
	if h.failOpen {
		rec.Decision = "allowed"
		rec.Reason += " (fail-open)"
	}
	return errorResponse(req.UID, msg, h.failOpen), *rec
}

type panicError struct{ v any }

func (p *panicError) Error() string { return fmt.Sprintf("policy evaluation panicked: %v", p.v) }

// evaluate runs the decider under ctx's deadline (the request's). It does
// not trust the decider to honour ctx: the result is abandoned at the
// deadline either way, and a panic inside it becomes an error for this
// request only.
func (h *Handler) evaluate(ctx context.Context, d Decider, input any) (engine.Decision, error) {
	type result struct {
		d   engine.Decision
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: &panicError{p}}
			}
		}()
		dec, err := d.Decide(ctx, input)
		done <- result{dec, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return engine.Decision{}, h.deadline()
		}
		if r.err != nil {
			return engine.Decision{}, fmt.Errorf("policy evaluation failed: %w", r.err)
		}
		return r.d, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return engine.Decision{}, h.deadline()
		}
		return engine.Decision{}, fmt.Errorf("request cancelled before a decision: %w", ctx.Err())
	}
}

func (h *Handler) deadline() error {
	return fmt.Errorf("policy evaluation exceeded the %s deadline: %w", h.timeout, context.DeadlineExceeded)
}
