package webhook

import (
	"testing"
)

// BenchmarkHandler is the in-process cost of one admission request (decode,
// evaluate with the shipped PSS restricted charter, encode), without TLS.
func BenchmarkHandler(b *testing.B) {
	h := NewHandler(HandlerOptions{Source: Fixed(loadEngine(b, "../policies/pod-security-restricted.yaml")), Logger: quiet})
	for _, bc := range []struct {
		name string
		c    container
	}{{"compliant", compliant}, {"violating", privileged}} {
		body := mustJSON(b, review("CREATE", podObject("default", bc.c, bc.c, bc.c)))
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if w := post(h, "application/json", body); w.Code != 200 {
					b.Fatal(w.Body.String())
				}
			}
		})
	}
}

// BenchmarkDecodeReview is the decoder alone: JSON to engine input.
func BenchmarkDecodeReview(b *testing.B) {
	body := mustJSON(b, review("CREATE", podObject("default", privileged, compliant, noLimits)))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeReview(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeLargeReview decodes the 1.3 MB '<'-padded pod's review
// (7.8 MB on the wire): B/op is what decoding it allocates in total.
func BenchmarkDecodeLargeReview(b *testing.B) {
	body := mustJSON(b, review("CREATE", padded(paddingBytes, privileged)))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeReview(body); err != nil {
			b.Fatal(err)
		}
	}
}
