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

// FuzzNewSet: of any verified versions of a few ids, in any order, NewSet
// keeps at most one per id, the one with the latest notBefore, and only
// when no other version with that notBefore says something else; every
// other version is dropped once, superseded or in conflict; and the outcome
// does not depend on the order of the list.
func FuzzNewSet(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 1, 0, 0, 0, 1, 1, 0, 1})
	f.Add([]byte{0, 2, 0, 0, 2, 1, 0, 1, 0, 2, 3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		var list []*Verified
		for i := 0; i+2 < len(data) && len(list) < 12; i += 3 {
			id, nb, variant := data[i]%3, int64(data[i+1]%4), data[i+2]%3
			list = append(list, &Verified{
				ID: string(rune('a' + id)), Charter: "shop", Articles: []string{"AD-001"},
				Scope:  Scope{Namespace: "shop", Kind: "Pod", Name: []string{"web-*", "web-1", "*"}[variant]},
				Reason: "r", Requester: "q", NotBeforeNs: nb, ExpiresNs: 10,
			})
		}
		set, dropped := NewSet(list)
		inSet := map[string]*Verified{}
		for i, v := range set {
			if i > 0 && set[i-1].ID >= v.ID {
				t.Fatalf("set not sorted by id, or two of one id: %v", set)
			}
			inSet[v.ID] = v
		}
		droppedOnce := map[*Verified]Check{}
		for _, d := range dropped {
			if _, twice := droppedOnce[d.Verified]; twice {
				t.Fatalf("%v dropped twice", d.Verified)
			}
			droppedOnce[d.Verified] = d.Check
		}
		for _, v := range list {
			latest, conflict := v.NotBeforeNs, false
			for _, o := range list {
				if o.ID == v.ID && o.NotBeforeNs > latest {
					latest = o.NotBeforeNs
				}
			}
			for _, o := range list {
				if o.ID == v.ID && o.NotBeforeNs == latest && o.Scope.Name != firstAt(list, v.ID, latest).Scope.Name {
					conflict = true
				}
			}
			check, wasDropped := droppedOnce[v]
			kept := inSet[v.ID]
			switch {
			case v.NotBeforeNs < latest:
				if check != CheckSuperseded {
					t.Fatalf("%s at %d beside a version at %d: %q, want superseded", v.ID, v.NotBeforeNs, latest, check)
				}
			case conflict:
				if check != CheckConflict || kept != nil {
					t.Fatalf("%s: conflicting newest versions: dropped %q, kept %v", v.ID, check, kept)
				}
			case wasDropped || kept == nil || !same(kept, v):
				t.Fatalf("%s: the newest version, alone or with identical copies, not kept: dropped %q, kept %v", v.ID, check, kept)
			}
		}
		rev := append([]*Verified(nil), list...)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		again, droppedAgain := NewSet(rev)
		if len(again) != len(set) || len(droppedAgain) != len(dropped) {
			t.Fatalf("order changed the outcome: %d kept, %d dropped; reversed %d, %d", len(set), len(dropped), len(again), len(droppedAgain))
		}
		for i := range set {
			if !same(set[i], again[i]) {
				t.Fatalf("order changed the version kept of %s", set[i].ID)
			}
		}
	})
}

// firstAt is the first version of id with notBefore nb in list.
func firstAt(list []*Verified, id string, nb int64) *Verified {
	for _, v := range list {
		if v.ID == id && v.NotBeforeNs == nb {
			return v
		}
	}
	return nil
}
