package webhook

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
)

// FuzzDecodeReview: the decoder never panics, refuses with a 400 RequestError,
// and whatever it accepts has a uid and an engine input equal to OPA's.
func FuzzDecodeReview(f *testing.F) {
	seeds := []map[string]any{
		review("CREATE", podObject("default", privileged)),
		review("UPDATE", podObject("default", compliant), func(r map[string]any) {
			r["oldObject"] = podObject("default", privileged)
			r["dryRun"] = true
		}),
		review("DELETE", podObject("default", compliant), func(r map[string]any) { r["object"] = nil }),
	}
	for _, s := range seeds {
		b, _ := json.Marshal(s)
		f.Add(b)
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","object":"s"}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","object":{"a":1e400}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`))
	f.Add([]byte(`{"request":{"uid":""}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rv, err := DecodeReview(body)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Code != http.StatusBadRequest || re.Msg == "" {
				t.Fatalf("error %v is not a 400 RequestError", err)
			}
			return
		}
		if rv.Request == nil || rv.Request.UID == "" || rv.Input == nil {
			t.Fatalf("accepted review without uid or input: %+v", rv)
		}
		// The input is what `opa run --server` would build from the same body.
		var x any
		if err := util.UnmarshalJSON(body, &x); err != nil {
			t.Fatalf("accepted a body OPA rejects: %v", err)
		}
		want, err := ast.InterfaceToValue(x)
		if err != nil {
			t.Fatal(err)
		}
		if rv.Input.Compare(want) != 0 {
			t.Fatalf("input differs from OPA's:\n%v\n%v", rv.Input, want)
		}
	})
}
