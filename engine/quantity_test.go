package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"k8s.io/apimachinery/pkg/api/resource"
)

// quantityCases: every suffix Kubernetes knows, decimal exponents, rounding
// below 1n, the binary cap, and the malformed shapes around them. Strings
// are quantity strings; json.Number values are JSON numbers, read from their text.
var quantityCases = []any{
	// every suffix
	"1n", "500n", "1u", "250u", "1m", "500m", "1", "1k", "1M", "1G", "1T", "1P", "1E",
	"1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei",
	// decimal exponents, signs, fractions
	"1e3", "1E3", "1e-3", "1E-9", "1e-10", "1.5e3", "1e+3", "2e0", "1e007", "-1e3", "+1e3",
	"2.5Gi", "0.5Ki", "1.5Mi", "0.3n", ".5", "5.", "+.5", "-.5", "1.G", "-2.5m", "007", "-0", "+0", "0", "000", "-000.000",
	// Kubernetes rounds a non-zero value up to 1n, away from zero
	"1.0000000001", "-1.0000000001", "0.1n", "-0.1n", "0.0000000001", "1.5n", "1.4u",
	// binary quantities are capped at 2^63-1, decimal ones are not
	"9Ei", "10Ei", "9223372036854775807Ki", "8191Pi", "100E", "100000000000000000000", "1e100", "1e1000", "-9Ei",
	// malformed
	"", "+", "-", ".", "1Gb", "1 ", " 1", "1e", "1e+", "1ee5", "1ki", "1K", "1KiB", "abc", "1e5m", "0x10", "1_000",
	"1.5.5", "1e1.5", "Mi", "1Mi5",
	// Kubernetes' slow path needs a digit, its fast path does not
	".0n", "Ei", "Ki", "+Mi", "0Ei", ".e-10", ".0e-10", "123456789012Ki", "1234567890123456789", "--1", "1-", "1i", "1Ei5", "1e1001", "1e-1001", "1e99999999999",
	// JSON numbers
	json.Number("0"), json.Number("0.5"), json.Number("2"), json.Number("-5"), json.Number("1e3"), json.Number("1E-3"),
	json.Number("1e+21"), json.Number("0.0000000001"), json.Number("123456789012345678901234567890"), 1.5, int64(-7),
}

// deviations are the inputs charter reads differently from Kubernetes, on
// purpose (charter.MaxQuantityExponent): Kubernetes accepts them, the last
// one with its exponent truncated to int32, at a cost in time and memory
// that a webhook cannot pay. charter reads them as no quantity.
var deviations = map[string]bool{"1e1001": true, "1e-1001": true, "1e99999999999": true}

// TestQuantitiesAsKubernetes is the regression test of issue 7 item 10: 500n
// or 1u made lt/gt articles silently not fire (units.parse rejects them).
// Every quantity is read the same by Kubernetes (resource.ParseQuantity), the
// engine (charter.Nanos, what the native evaluator calls) and OPA running the
// compiled lib.nanos, and an article comparing it decides the same natively
// and in OPA.
func TestQuantitiesAsKubernetes(t *testing.T) {
	ctx := context.Background()
	b, _, err := bundles.FromCharters([]string{"testdata/quantities.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := rego.New(rego.ParsedBundle("charter", b.OPA), rego.Query("x := data.charter.lib.nanos(input)"), rego.StrictBuiltinErrors(false)).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	native, opa := pairBundle(t, b)
	suffixes := map[string]bool{}
	for _, c := range quantityCases {
		text := fmt.Sprint(c)
		name := fmt.Sprintf("%T(%s)", c, text)
		t.Run(name, func(t *testing.T) {
			input, err := ast.InterfaceToValue(c)
			if err != nil {
				t.Fatal(err)
			}
			// Kubernetes: a string as it is, a number from its JSON text.
			var want *big.Int
			wantOK := false
			if !deviations[text] {
				want, wantOK = kubernetesNanos(t, jsonText(t, input))
			}
			got, gotOK := valueNanos(input)
			if gotOK != wantOK || gotOK && got.Cmp(want) != 0 {
				t.Errorf("engine: %v (%v), Kubernetes: %v (%v)", got, gotOK, want, wantOK)
			}
			rs, err := lib.Eval(ctx, rego.EvalParsedInput(input))
			if err != nil {
				t.Fatal(err)
			}
			var opaN *big.Int
			if len(rs) == 1 {
				opaN = ratInt(t, rs[0].Bindings["x"])
			}
			if (opaN != nil) != wantOK || opaN != nil && opaN.Cmp(want) != 0 {
				t.Errorf("OPA lib.nanos: %v, Kubernetes: %v (%v)", opaN, want, wantOK)
			}
			// An article comparing the field with 0 and with 1 decides the
			// same in both evaluators, and fires exactly as the value says.
			obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "q", "namespace": "default"}, "data": map[string]any{"q": c}}
			dn, err := native.Decide(ctx, obj)
			if err != nil {
				t.Fatal(err)
			}
			do, err := opa.Decide(ctx, obj)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(dn) != fmt.Sprint(do) {
				t.Fatalf("native %+v, OPA %+v", dn, do)
			}
			fired := map[string]bool{}
			for _, f := range dn.All() {
				fired[f.Article] = true
			}
			wantFired := map[string]bool{}
			if wantOK {
				wantFired["Q-positive"] = want.Sign() > 0
				wantFired["Q-negative"] = want.Sign() < 0
				wantFired["Q-over-1n"] = want.Cmp(big.NewInt(1)) > 0
				wantFired["Q-at-most-1Ki"] = want.Cmp(big.NewInt(1024_000_000_000)) <= 0
			}
			for _, id := range []string{"Q-positive", "Q-negative", "Q-over-1n", "Q-at-most-1Ki"} {
				if fired[id] != wantFired[id] {
					t.Errorf("%s fired %v, want %v", id, fired[id], wantFired[id])
				}
			}
		})
		if s, ok := c.(string); ok && wantSuffix(s) != "" {
			suffixes[wantSuffix(s)] = true
		}
	}
	for _, s := range []string{"n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e", "E+"} {
		if !suffixes[s] {
			t.Errorf("no case with suffix %s", s)
		}
	}
}

// wantSuffix names the suffix of a well-formed case, for the coverage check.
func wantSuffix(s string) string {
	if _, err := resource.ParseQuantity(s); err != nil {
		return ""
	}
	t := strings.TrimRight(s, "0123456789")
	switch {
	case strings.HasSuffix(t, "e+") || strings.HasSuffix(t, "e-") || strings.HasSuffix(t, "E-"):
		return "e"
	case strings.HasSuffix(t, "e"):
		return "e"
	case strings.HasSuffix(t, "E") && t != s:
		return "E+"
	}
	return strings.TrimLeft(t, "+-.0123456789")
}

func kubernetesNanos(t *testing.T, s string) (*big.Int, bool) {
	t.Helper()
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(q.AsDec().String())
	if !ok {
		t.Fatalf("Kubernetes value %s", q.AsDec())
	}
	r.Mul(r, new(big.Rat).SetInt64(1e9))
	if !r.IsInt() {
		t.Fatalf("Kubernetes value %s is finer than 1n", q.AsDec())
	}
	return r.Num(), true
}

func jsonText(t *testing.T, v ast.Value) string {
	t.Helper()
	if s, ok := v.(ast.String); ok {
		return string(s)
	}
	s, ok := callString(builtin.marshal, ast.NewTerm(v))
	if !ok {
		t.Fatalf("marshal %v", v)
	}
	return s
}

func ratInt(t *testing.T, v any) *big.Int {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("lib.nanos gave %T %v", v, v)
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok || !r.IsInt() {
		t.Fatalf("lib.nanos gave %s, not a whole number", n)
	}
	return r.Num()
}

var fuzzLib struct {
	once sync.Once
	q    rego.PreparedEvalQuery
	err  error
}

// FuzzQuantity: on any string, the engine (charter.Nanos), OPA running the
// compiled lib.nanos, and Kubernetes read the same quantity, or all three
// reject it (exponents beyond charter.MaxQuantityExponent aside).
func FuzzQuantity(f *testing.F) {
	for _, c := range quantityCases {
		if s, ok := c.(string); ok {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		ctx := context.Background()
		fuzzLib.once.Do(func() {
			b, _, err := bundles.FromCharters([]string{"testdata/quantities.yaml"})
			if err != nil {
				fuzzLib.err = err
				return
			}
			fuzzLib.q, fuzzLib.err = rego.New(rego.ParsedBundle("charter", b.OPA), rego.Query("x := data.charter.lib.nanos(input)")).PrepareForEval(ctx)
		})
		if fuzzLib.err != nil {
			t.Fatal(fuzzLib.err)
		}
		got, gotOK := valueNanos(ast.String(s))
		rs, err := fuzzLib.q.Eval(ctx, rego.EvalParsedInput(ast.String(s)))
		if err != nil {
			t.Fatal(err)
		}
		var opaN *big.Int
		if len(rs) == 1 {
			opaN = ratInt(t, rs[0].Bindings["x"])
		}
		if (opaN != nil) != gotOK || gotOK && opaN.Cmp(got) != 0 {
			t.Fatalf("%q: engine %v (%v), OPA %v", s, got, gotOK, opaN)
		}
		if m := exponentText.FindStringSubmatch(s); m != nil && len(m[1]) > 4 {
			return // beyond the bound: Kubernetes would take unbounded time
		}
		want, wantOK := kubernetesNanos(t, s)
		if deviates(s) {
			wantOK = false
		}
		if gotOK != wantOK || gotOK && got.Cmp(want) != 0 {
			t.Fatalf("%q: engine %v (%v), Kubernetes %v (%v)", s, got, gotOK, want, wantOK)
		}
	})
}

var exponentText = regexp.MustCompile(`[eE][+-]?0*([0-9]+)$`)

// deviates: a decimal exponent beyond charter.MaxQuantityExponent.
func deviates(s string) bool {
	m := exponentText.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	e, err := strconv.Atoi(m[1])
	return err != nil || e > charter.MaxQuantityExponent
}
