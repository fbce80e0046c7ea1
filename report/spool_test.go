package report

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestSpool: a spool keeps what is written in memory up to its limit, then
// in a temporary file of its own that is gone once it is closed (at once,
// where the system lets an open file be removed); reads give back every
// byte, whole or a range.
func TestSpool(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	s := &spool{limit: 10}
	var want bytes.Buffer
	for _, part := range []string{"0123", "4567", "89ab", strings.Repeat("x", 100)} {
		want.WriteString(part)
		if _, err := s.Write([]byte(part)); err != nil {
			t.Fatal(err)
		}
		if s.Len() != int64(want.Len()) {
			t.Fatalf("Len %d, want %d", s.Len(), want.Len())
		}
	}
	if s.file == nil {
		t.Fatal("past its limit, the spool is still in memory")
	}
	var got bytes.Buffer
	if _, err := s.WriteTo(&got); err != nil || got.String() != want.String() {
		t.Fatalf("WriteTo = %q, %v; want %q", got.String(), err, want.String())
	}
	got.Reset()
	if err := s.copyRange(&got, 6, 10); err != nil || got.String() != want.String()[6:16] {
		t.Fatalf("copyRange = %q, %v", got.String(), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}

// TestSpilledStreams: junit, html and policyreport write the same bytes
// when their spools move to temporary files as when they stay in memory,
// and leave no file behind (review finding: they kept every finding in
// memory until the end).
func TestSpilledStreams(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	rs := streamResults(60)
	for _, format := range []string{"junit", "html", "policyreport"} {
		t.Run(format, func(t *testing.T) {
			w, _ := New(format, false)
			var inMemory, spilled bytes.Buffer
			if err := w.Write(&inMemory, policy, rs); err != nil {
				t.Fatal(err)
			}
			s := w.Stream(&spilled, policy)
			var spools []*spool
			switch s := s.(type) {
			case *junitStream:
				spools = []*spool{s.body}
			case *htmlStream:
				spools = []*spool{s.rows, s.data}
			case *policyReportStream:
				spools = []*spool{s.body}
			}
			for _, sp := range spools {
				sp.limit = 64
			}
			for _, r := range rs {
				if err := s.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			for _, sp := range spools {
				if sp.file == nil {
					t.Fatalf("a %s spool stayed in memory; the test would prove nothing", format)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if spilled.String() != inMemory.String() {
				t.Errorf("spilled:\n%s\nin memory:\n%s", spilled.String(), inMemory.String())
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
}
