package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
)

// MaxBodyBytes is the largest AdmissionReview accepted: the apiserver's own
// request limit is 3 MiB, and an UPDATE carries object and oldObject, so 7 MiB
// leaves room for both plus the review envelope.
const MaxBodyBytes = 7 << 20

// RequestError is a request the webhook refuses to decide, with the HTTP
// status that says why.
type RequestError struct {
	Code int
	Msg  string
}

func (e *RequestError) Error() string { return e.Msg }

func badRequest(format string, args ...any) *RequestError {
	return &RequestError{Code: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// Review is a decoded, validated AdmissionReview request.
type Review struct {
	Request *admissionv1.AdmissionRequest
	// Input is what the engine evaluates: the review as an OPA value, with
	// request.object and request.oldObject parsed once.
	Input ast.Value
}

// ReadReview reads and decodes the AdmissionReview in r's body, enforcing the
// content type and size limits.
func ReadReview(r *http.Request, limit int64) (*Review, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return nil, &RequestError{Code: http.StatusUnsupportedMediaType,
			Msg: fmt.Sprintf("content type %q is not supported; send application/json", ct)}
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, badRequest("read request body: %v", err)
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	return DecodeReview(body)
}

func tooLarge(limit int64) *RequestError {
	return &RequestError{Code: http.StatusRequestEntityTooLarge,
		Msg: fmt.Sprintf("request body is larger than %d bytes", limit)}
}

// DecodeReview decodes an admission.k8s.io/v1 AdmissionReview and checks what
// a response depends on: the type, a request, and its uid. Every error is a
// *RequestError with status 400.
func DecodeReview(body []byte) (*Review, error) {
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &ar); err != nil {
		return nil, badRequest("decode AdmissionReview: %v", err)
	}
	if ar.APIVersion != admissionv1.SchemeGroupVersion.String() || ar.Kind != "AdmissionReview" {
		return nil, badRequest("expected apiVersion %s and kind AdmissionReview, got apiVersion %q and kind %q",
			admissionv1.SchemeGroupVersion, ar.APIVersion, ar.Kind)
	}
	req := ar.Request
	if req == nil {
		return nil, badRequest("AdmissionReview has no request")
	}
	if req.UID == "" {
		return nil, badRequest("AdmissionReview request has no uid")
	}
	input, err := reviewInput(req)
	if err != nil {
		return nil, err
	}
	return &Review{Request: req, Input: input}, nil
}

// reviewInput builds the engine input: the AdmissionReview shape the
// compiled policy reads (input.kind, input.request.object, operation,
// namespace), without converting the object twice.
func reviewInput(req *admissionv1.AdmissionRequest) (ast.Value, error) {
	object, err := objectValue("object", req.Object.Raw)
	if err != nil {
		return nil, err
	}
	old, err := objectValue("oldObject", req.OldObject.Raw)
	if err != nil {
		return nil, err
	}
	groups := make([]*ast.Term, len(req.UserInfo.Groups))
	for i, g := range req.UserInfo.Groups {
		groups[i] = ast.StringTerm(g)
	}
	dryRun := req.DryRun != nil && *req.DryRun
	r := ast.NewObject(
		ast.Item(ast.StringTerm("uid"), ast.StringTerm(string(req.UID))),
		ast.Item(ast.StringTerm("kind"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("group"), ast.StringTerm(req.Kind.Group)),
			ast.Item(ast.StringTerm("version"), ast.StringTerm(req.Kind.Version)),
			ast.Item(ast.StringTerm("kind"), ast.StringTerm(req.Kind.Kind)),
		)),
		ast.Item(ast.StringTerm("resource"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("group"), ast.StringTerm(req.Resource.Group)),
			ast.Item(ast.StringTerm("version"), ast.StringTerm(req.Resource.Version)),
			ast.Item(ast.StringTerm("resource"), ast.StringTerm(req.Resource.Resource)),
		)),
		ast.Item(ast.StringTerm("subResource"), ast.StringTerm(req.SubResource)),
		ast.Item(ast.StringTerm("name"), ast.StringTerm(req.Name)),
		ast.Item(ast.StringTerm("namespace"), ast.StringTerm(req.Namespace)),
		ast.Item(ast.StringTerm("operation"), ast.StringTerm(string(req.Operation))),
		ast.Item(ast.StringTerm("userInfo"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("username"), ast.StringTerm(req.UserInfo.Username)),
			ast.Item(ast.StringTerm("groups"), ast.ArrayTerm(groups...)),
		)),
		ast.Item(ast.StringTerm("dryRun"), ast.BooleanTerm(dryRun)),
	)
	if object != nil {
		r.Insert(ast.StringTerm("object"), ast.NewTerm(object))
	}
	if old != nil {
		r.Insert(ast.StringTerm("oldObject"), ast.NewTerm(old))
	}
	return ast.NewObject(
		ast.Item(ast.StringTerm("apiVersion"), ast.StringTerm(admissionv1.SchemeGroupVersion.String())),
		ast.Item(ast.StringTerm("kind"), ast.StringTerm("AdmissionReview")),
		ast.Item(ast.StringTerm("request"), ast.NewTerm(r)),
	), nil
}

func objectValue(field string, raw []byte) (ast.Value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, badRequest("request.%s is not a JSON object", field)
	}
	v, err := ast.ValueFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, badRequest("decode request.%s: %v", field, err)
	}
	return v, nil
}

// IsRequestError reports whether err is a *RequestError and returns it.
func IsRequestError(err error) (*RequestError, bool) {
	var re *RequestError
	ok := errors.As(err, &re)
	return re, ok
}
