package overrides

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const validYAML = `apiVersion: charter.dev/v1
kind: Override
metadata:
  name: debug-web-1
spec:
  charter: shop
  articles: [AD-001]
  scope: {namespace: shop, kind: Pod, name: "web-*", labelSelector: {matchLabels: {app: web}}}
  reason: debug a crash loop
  requester: sre@example.com
  notBefore: "2026-12-01T12:00:00Z"
  expires: "2026-12-01T14:00:00+01:00"
`

func TestParseRoundTrip(t *testing.T) {
	d, err := Parse([]byte(validYAML))
	if err != nil {
		t.Fatal(err)
	}
	if d.ID() != "debug-web-1" || d.Spec.Scope.LabelSelector.MatchLabels["app"] != "web" || !d.Spec.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("parsed %+v", d)
	}
	sign(t, d, newCustodians(t).alice)
	out, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal): %v\n%s", err, out)
	}
	p1, _ := Payload(d)
	p2, _ := Payload(back)
	if string(p1) != string(p2) || len(back.Signatures) != 1 {
		t.Errorf("payload changed through Marshal and Parse:\n%s\n%s", p1, p2)
	}
}

func TestPayloadIsCanonical(t *testing.T) {
	d := request()
	p, err := Payload(d)
	if err != nil {
		t.Fatal(err)
	}
	want := "charter.dev/v1 Override signature\ncharter shop\n" +
		`{"apiVersion":"charter.dev/v1","id":"debug-web-1","kind":"Override","spec":{"articles":["AD-001"],"charter":"shop","expires":"2026-12-01T13:00:00Z","notBefore":"2026-12-01T12:00:00Z","reason":"debug a crash loop","requester":"sre@example.com","scope":{"kind":"Pod","name":"web-*","namespace":"shop"}}}`
	if string(p) != want {
		t.Errorf("payload\n%s\nwant\n%s", p, want)
	}
	// The same instants in another zone sign the same payload.
	d.Spec.NotBefore = d.Spec.NotBefore.In(time.FixedZone("x", 3600))
	if q, _ := Payload(d); string(q) != want {
		t.Errorf("payload depends on the time zone:\n%s", q)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, doc, msg string }{
		{"empty", "", "empty document"},
		{"not yaml", "{", "not a YAML or JSON document"},
		{"unknown field", strings.Replace(validYAML, "  reason:", "  approvedBy: me\n  reason:", 1), `unknown field "approvedBy"`},
		{"duplicate key", strings.Replace(validYAML, "  reason:", "  charter: other\n  reason:", 1), "not a YAML or JSON document"},
		{"second document", validYAML + "---\n" + validYAML, "exactly one Override document"},
		{"wrong kind", strings.Replace(validYAML, "kind: Override", "kind: Charter", 1), `kind "Charter", want "Override"`},
		{"wrong apiVersion", strings.Replace(validYAML, "charter.dev/v1", "charter.dev/v2", 1), `apiVersion "charter.dev/v2"`},
		{"bad id", strings.Replace(validYAML, "debug-web-1", "Debug_Web", 1), "is not an override id"},
		{"no articles", strings.Replace(validYAML, "[AD-001]", "[]", 1), "spec.articles is empty"},
		{"article twice", strings.Replace(validYAML, "[AD-001]", "[AD-001, AD-001]", 1), "names AD-001 twice"},
		{"namespace glob", strings.Replace(validYAML, "namespace: shop", "namespace: 'sh*'", 1), "is not one namespace name"},
		{"kind list", strings.Replace(validYAML, "kind: Pod", "kind: '*'", 1), "is not one kind"},
		{"name class", strings.Replace(validYAML, `"web-*"`, `"web-[ab]"`, 1), "with * and ? as wildcards"},
		{"empty selector", strings.Replace(validYAML, "{matchLabels: {app: web}}", "{}", 1), "has no matchLabels"},
		{"bad label", strings.Replace(validYAML, "{app: web}", "{app: 'a b'}", 1), "is not a valid label"},
		{"no reason", strings.Replace(validYAML, "  reason: debug a crash loop\n", "", 1), "spec.reason must be"},
		{"no expiry", strings.Replace(validYAML, "  expires: \"2026-12-01T14:00:00+01:00\"\n", "", 1), "spec.expires is missing"},
		{"expires before notBefore", strings.Replace(validYAML, "14:00:00+01:00", "11:00:00Z", 1), "is not after spec.notBefore"},
		{"bad time", strings.Replace(validYAML, `"2026-12-01T12:00:00Z"`, "tomorrow", 1), "cannot parse"},
		{"signature without key", validYAML + "signatures: [{signature: AAAA}]\n", "signatures[0] needs keyid and signature"},
		{"oversized", validYAML + "# " + strings.Repeat("x", MaxDocumentSize), "the limit is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Parse = %v, want malformed with %q", err, tt.msg)
			}
		})
	}
}
