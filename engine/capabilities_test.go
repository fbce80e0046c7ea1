package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
)

// TestRestrictedBuiltinsNeedTheBundlesAllowance: the engine compiles a
// bundle with the capabilities its charter allowed, so raw Rego that calls
// http.send loads only from a bundle that records the allowance (issue 7
// item 6: a bundle not built by charter validate cannot bring it in).
func TestRestrictedBuiltinsNeedTheBundlesAllowance(t *testing.T) {
	src := `apiVersion: charter.dev/v1
kind: Charter
metadata: {name: net}
spec:
  regoCapabilities: {allow: [http.send]}
  articles:
  - id: N-1
    title: Ask the policy service
    match: {kinds: [Service]}
    rego: |
      http.send({"method": "GET", "url": "https://policy.example.com/"}).status_code != 200
    message: refused
`
	c, err := charter.Parse("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, err := compiler.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundles.Compile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), b); err != nil {
		t.Fatalf("allowed builtin refused: %v", err)
	}
	out.Info.AllowedBuiltins = nil // as a bundle made without the charter's opt-in
	b, err = bundles.Compile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range [][]Option{nil, {OPAOnly()}} {
		_, err := New(context.Background(), b, opts...)
		if err == nil || !strings.Contains(err.Error(), "http.send") {
			t.Fatalf("bundle calling http.send without the allowance loaded: %v", err)
		}
	}
}
