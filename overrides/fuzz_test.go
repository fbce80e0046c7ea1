package overrides

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse: any input is a document or a malformed failure, never a panic,
// and a parsed document survives Marshal and Parse with the same payload.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validYAML))
	f.Add([]byte(`{"apiVersion":"charter.dev/v1","kind":"Override","metadata":{"name":"a"},"spec":{}}`))
	f.Add([]byte("signatures: [{keyid: x, signature: y}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse error %v is not ErrMalformed", err)
			}
			return
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(d)): %v\n%s", err, out)
		}
		p1, err1 := Payload(d)
		p2, err2 := Payload(back)
		if err1 != nil || err2 != nil || string(p1) != string(p2) {
			t.Fatalf("payload changed through Marshal and Parse: %v %v\n%s\n%s", err1, err2, p1, p2)
		}
	})
}

// FuzzVerify: a document signed by two council keys, then altered by the
// fuzzer (any field, any signature), verifies only when it still carries
// two valid distinct council signatures over what it now says.
func FuzzVerify(f *testing.F) {
	c := newCustodians(f)
	v, err := NewVerifier(c.info(f))
	if err != nil {
		f.Fatal(err)
	}
	base := sign(f, request(), c.alice, c.bob)
	f.Add("", "", "", "", "", 0, 0, 0, false)
	f.Add("payments", "", "", "", "", 0, 0, 0, false)
	f.Add("", "Deployment", "*", "AD-002", "", 1, 5, 2, true)
	f.Fuzz(func(t *testing.T, ns, kind, name, article, sig string, cut, shift, dup int, label bool) {
		d := *base
		d.Spec.Scope = base.Spec.Scope
		d.Spec.Articles = append([]string(nil), base.Spec.Articles...)
		d.Signatures = append([]Signature(nil), base.Signatures...)
		if ns != "" {
			d.Spec.Scope.Namespace = ns
		}
		if kind != "" {
			d.Spec.Scope.Kind = kind
		}
		if name != "" {
			d.Spec.Scope.Name = name
		}
		if article != "" {
			d.Spec.Articles = append(d.Spec.Articles, article)
		}
		if label {
			d.Spec.Scope.LabelSelector = &LabelSelector{MatchLabels: map[string]string{"app": "x"}}
		}
		d.Spec.Expires = d.Spec.Expires.Add(time.Duration(shift) * time.Second)
		if n := len(d.Signatures); cut > 0 && n > 0 {
			s := d.Signatures[cut%n].Signature
			d.Signatures[cut%n].Signature = s[:len(s)-min(cut, len(s)-1)]
		}
		if sig != "" {
			d.Signatures = append(d.Signatures, Signature{KeyID: d.Signatures[0].KeyID, Signature: sig})
		}
		for range dup % 4 {
			d.Signatures = append(d.Signatures, d.Signatures[0])
		}
		unchanged := ns == "" || ns == base.Spec.Scope.Namespace
		unchanged = unchanged && (kind == "" || kind == base.Spec.Scope.Kind) && (name == "" || name == base.Spec.Scope.Name)
		unchanged = unchanged && article == "" && !label && shift == 0 && cut == 0
		got, err := v.Verify(&d, t0.Add(time.Minute))
		var fail *Failure
		if err != nil && !errors.As(err, &fail) {
			t.Fatalf("Verify: %v is not a *Failure", err)
		}
		if err == nil && !unchanged {
			t.Fatalf("an altered override verified: %+v", got)
		}
		if err != nil && unchanged {
			t.Fatalf("the signed override did not verify: %v", err)
		}
	})
}
