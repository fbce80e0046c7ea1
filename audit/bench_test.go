package audit

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// BenchmarkAppend is one writer without fsync: the cost of encoding,
// hashing and the group commit round trip.
func BenchmarkAppend(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "audit.jsonl"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	r := rec(1)
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Append(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify verifies a log of b.N records.
func BenchmarkVerify(b *testing.B) {
	s, v := testKey(b)
	path := filepath.Join(b.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Signer: s})
	if err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				if err := l.Append(context.Background(), rec(i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Verify(path, VerifyOptions{Verifier: v}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
