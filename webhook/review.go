package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
)

// The apiserver's own limits, from which MaxBodyBytes is derived.
const (
	// APIServerMaxRequestBytes is kube-apiserver's --max-request-bytes
	// default: the largest body a client may send for one object.
	APIServerMaxRequestBytes = 3 << 20
	// JSONEscapeGrowth is how many bytes one byte of an object can become
	// when the apiserver encodes it into the AdmissionReview: Go's encoder
	// writes '<', '>' and '&' as \u003c, \u003e and \u0026.
	JSONEscapeGrowth = 6
	// ReviewEnvelopeBytes covers everything around the objects: userInfo,
	// options, kinds and resources.
	ReviewEnvelopeBytes = 1 << 20
)

// MaxBodyBytes is the largest AdmissionReview the webhook decodes: an UPDATE
// carries object and oldObject, each at most the apiserver's request limit,
// each byte of which may be escaped to six (37 MiB). Anything the apiserver
// can send fits; a larger body is not an AdmissionReview from the apiserver,
// and is denied (or refused, when it has no uid) rather than decided.
const MaxBodyBytes = 2*APIServerMaxRequestBytes*JSONEscapeGrowth + ReviewEnvelopeBytes

// maxDepth bounds JSON nesting, as the apiserver's own decoder does.
const maxDepth = 10000

// RequestError is a request the webhook refuses to decide, with the HTTP
// status that says why. UID is set when the request is too large but its uid
// was read: the webhook can then answer with a denial instead of an error,
// so that even failurePolicy Ignore cannot turn it into an admission.
type RequestError struct {
	Code int
	Msg  string
	UID  string
}

func (e *RequestError) Error() string { return e.Msg }

// unread reports whether the request is one the webhook could not read
// (too large, not read within the deadline, no decoding memory for it
// within the deadline) but whose uid it knows: it is then denied, never
// refused, so failurePolicy cannot admit it.
func (e *RequestError) unread() bool {
	switch e.Code {
	case http.StatusRequestEntityTooLarge, http.StatusRequestTimeout, http.StatusServiceUnavailable:
		return e.UID != ""
	}
	return false
}

func badRequest(format string, args ...any) *RequestError {
	return &RequestError{Code: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// Review is a decoded, validated AdmissionReview request.
type Review struct {
	// Request is the typed request without its object, oldObject and
	// options, which live only in Input.
	Request *admissionv1.AdmissionRequest
	// Input is what the engine evaluates: the whole AdmissionReview exactly
	// as the apiserver sent it, as under `opa run --server`.
	Input ast.Value
}

// ReadReview reads and decodes the AdmissionReview in r's body, enforcing the
// content type and the size limit. The body is decoded as it streams in: no
// copy of it is held, only the decoded value.
func ReadReview(r *http.Request, limit int64) (*Review, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return nil, &RequestError{Code: http.StatusUnsupportedMediaType,
			Msg: fmt.Sprintf("content type %q is not supported; send application/json", ct)}
	}
	return decodeReview(r.Body, limit)
}

// DecodeReview decodes an admission.k8s.io/v1 AdmissionReview held in memory
// and checks what a response depends on: the type, a request, and its uid.
// Every error is a *RequestError with status 400 (413 past MaxBodyBytes).
func DecodeReview(body []byte) (*Review, error) {
	return decodeReview(bytes.NewReader(body), MaxBodyBytes)
}

func decodeReview(body io.Reader, limit int64) (*Review, error) {
	lr := &limitReader{r: body, left: limit}
	d := &decoder{dec: json.NewDecoder(lr)}
	d.dec.UseNumber()
	v, err := d.value(0)
	if err == nil {
		// One AdmissionReview, nothing after it.
		switch _, terr := d.dec.Token(); {
		case terr == io.EOF:
		case terr != nil:
			err = terr
		default:
			err = errors.New("unexpected data after the AdmissionReview")
		}
	}
	if err != nil {
		if errors.Is(err, errTooManyValues) {
			return nil, &RequestError{Code: http.StatusRequestEntityTooLarge, UID: d.uid, Msg: err.Error()}
		}
		if errors.Is(err, errTooLarge) {
			return nil, &RequestError{Code: http.StatusRequestEntityTooLarge, UID: d.uid,
				Msg: fmt.Sprintf("request body is larger than %d bytes", limit)}
		}
		var nb *noBudgetError
		if errors.As(err, &nb) {
			return nil, &RequestError{Code: http.StatusServiceUnavailable, UID: d.uid, Msg: nb.Error()}
		}
		var late *lateBodyError
		if errors.As(err, &late) {
			return nil, &RequestError{Code: http.StatusRequestTimeout, UID: d.uid, Msg: late.Error()}
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, badRequest("decode AdmissionReview: %v", err)
	}
	return checkReview(v)
}

// checkReview validates the decoded review and types its request.
func checkReview(v ast.Value) (*Review, error) {
	top, ok := v.(ast.Object)
	if !ok {
		return nil, badRequest("decode AdmissionReview: the body is not a JSON object")
	}
	apiVersion, kind := stringField(top, "apiVersion"), stringField(top, "kind")
	if apiVersion != admissionv1.SchemeGroupVersion.String() || kind != "AdmissionReview" {
		return nil, badRequest("expected apiVersion %s and kind AdmissionReview, got apiVersion %q and kind %q",
			admissionv1.SchemeGroupVersion, apiVersion, kind)
	}
	rt := top.Get(ast.StringTerm("request"))
	if rt == nil || rt.Value.Compare(ast.Null{}) == 0 {
		return nil, badRequest("AdmissionReview has no request")
	}
	reqObj, ok := rt.Value.(ast.Object)
	if !ok {
		return nil, badRequest("decode AdmissionReview: request is not a JSON object")
	}
	for _, field := range []string{"object", "oldObject", "options"} {
		if t := reqObj.Get(ast.StringTerm(field)); t != nil {
			switch t.Value.(type) {
			case ast.Object, ast.Null:
			default:
				return nil, badRequest("request.%s is not a JSON object", field)
			}
		}
	}
	req, err := typedRequest(reqObj)
	if err != nil {
		return nil, err
	}
	if req.UID == "" {
		return nil, badRequest("AdmissionReview request has no uid")
	}
	return &Review{Request: req, Input: top}, nil
}

// typedRequest decodes the request's envelope (everything but the objects
// and options, which can be large) into the Kubernetes type, so every field
// has the type the API defines.
func typedRequest(reqObj ast.Object) (*admissionv1.AdmissionRequest, error) {
	envelope := ast.NewObject()
	reqObj.Foreach(func(k, v *ast.Term) {
		if s, ok := k.Value.(ast.String); ok {
			switch string(s) {
			case "object", "oldObject", "options":
				return
			}
		}
		envelope.Insert(k, v)
	})
	raw, err := ast.JSON(envelope)
	if err != nil {
		return nil, badRequest("decode AdmissionReview: %v", err)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, badRequest("decode AdmissionReview: %v", err)
	}
	var req admissionv1.AdmissionRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, badRequest("decode AdmissionReview: %v", err)
	}
	return &req, nil
}

func stringField(o ast.Object, key string) string {
	if t := o.Get(ast.StringTerm(key)); t != nil {
		if s, ok := t.Value.(ast.String); ok {
			return string(s)
		}
	}
	return ""
}

// requestField is request.<field> of an input when it is a JSON object, else nil.
func requestField(input ast.Value, field string) *ast.Term {
	top, ok := input.(ast.Object)
	if !ok {
		return nil
	}
	rt := top.Get(ast.StringTerm("request"))
	if rt == nil {
		return nil
	}
	req, ok := rt.Value.(ast.Object)
	if !ok {
		return nil
	}
	t := req.Get(ast.StringTerm(field))
	if t == nil {
		return nil
	}
	if _, ok := t.Value.(ast.Object); !ok {
		return nil
	}
	return t
}

// IsRequestError reports whether err is a *RequestError and returns it.
func IsRequestError(err error) (*RequestError, bool) {
	var re *RequestError
	ok := errors.As(err, &re)
	return re, ok
}

var errTooLarge = errors.New("request body too large")

// deadlineBody is a request body read under the request's deadline: once
// it passes (or the connection's read deadline, set to it, cuts a read),
// reads fail with a *lateBodyError.
type deadlineBody struct {
	io.ReadCloser
	ctx     context.Context
	timeout time.Duration
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, &lateBodyError{b.timeout, err}
	}
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The connection's read deadline: the request's, reached first.
		return n, &lateBodyError{b.timeout, context.DeadlineExceeded}
	case b.ctx.Err() != nil:
		return n, &lateBodyError{b.timeout, b.ctx.Err()}
	}
	return n, err
}

// lateBodyError is a body not read within the request's deadline.
type lateBodyError struct {
	timeout time.Duration
	err     error
}

func (e *lateBodyError) Error() string {
	if errors.Is(e.err, context.DeadlineExceeded) {
		return fmt.Sprintf("request body not read within the %s deadline", e.timeout)
	}
	return "request body not read: " + e.err.Error()
}

func (e *lateBodyError) Unwrap() error { return e.err }

// limitReader fails with errTooLarge once more than left bytes were asked for.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// decoder builds an OPA value from a JSON token stream, so the body is never
// held whole: only the token being read and the value built so far. It notes
// request.uid as soon as it is read, for the answer to a review that turns
// out to be too large.
type decoder struct {
	dec    *json.Decoder
	uid    string
	values int
}

// MaxReviewValues bounds the JSON values decoded per review. Each costs
// about 200 bytes once it is an OPA term, so a body of `[0,0,...]` under
// MaxBodyBytes (19 million values) would take gigabytes; one million is
// about 200 MB, and far more values than two real 3 MiB objects hold
// (a 3 MiB pod spec holds tens of thousands). Past it the review is denied.
const MaxReviewValues = 1_000_000

var errTooManyValues = fmt.Errorf("request holds more than %d JSON values", MaxReviewValues)

func (d *decoder) value(depth int) (ast.Value, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	if d.values++; d.values > MaxReviewValues {
		return nil, errTooManyValues
	}
	return d.fromToken(tok, depth)
}

func (d *decoder) fromToken(tok json.Token, depth int) (ast.Value, error) {
	switch t := tok.(type) {
	case json.Delim:
		if depth >= maxDepth {
			return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
		}
		switch t {
		case '{':
			return d.object(depth)
		case '[':
			return d.array(depth)
		}
		return nil, fmt.Errorf("unexpected %q", t)
	case string:
		return ast.String(t), nil
	case json.Number:
		return ast.Number(t), nil
	case bool:
		return ast.Boolean(t), nil
	case nil:
		return ast.Null{}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

func (d *decoder) object(depth int) (ast.Value, error) {
	obj := ast.NewObject()
	for d.dec.More() {
		kt, err := d.dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := kt.(string)
		if !ok {
			return nil, fmt.Errorf("object key %v is not a string", kt)
		}
		var v ast.Value
		if depth == 0 && key == "request" {
			v, err = d.request(depth + 1)
		} else {
			v, err = d.value(depth + 1)
		}
		if err != nil {
			return nil, err
		}
		obj.Insert(ast.StringTerm(key), ast.NewTerm(v))
	}
	if _, err := d.dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return obj, nil
}

// request decodes the review's request object, noting its uid.
func (d *decoder) request(depth int) (ast.Value, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return d.fromToken(tok, depth)
	}
	obj := ast.NewObject()
	for d.dec.More() {
		kt, err := d.dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := kt.(string)
		if !ok {
			return nil, fmt.Errorf("object key %v is not a string", kt)
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if s, ok := v.(ast.String); ok && key == "uid" {
			d.uid = string(s)
		}
		obj.Insert(ast.StringTerm(key), ast.NewTerm(v))
	}
	if _, err := d.dec.Token(); err != nil {
		return nil, err
	}
	return obj, nil
}

func (d *decoder) array(depth int) (ast.Value, error) {
	var terms []*ast.Term
	for d.dec.More() {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		terms = append(terms, ast.NewTerm(v))
	}
	if _, err := d.dec.Token(); err != nil {
		return nil, err
	}
	return ast.NewArray(terms...), nil
}
