package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestJSONLinesConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := log.Append(map[string]int{"writer": w, "i": i, "pad": len(strings.Repeat("x", 512))}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != FileMode {
		t.Fatalf("mode %v, err %v", fi.Mode().Perm(), err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		var rec map[string]int
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not one JSON record: %v", n+1, err)
		}
	}
	if n != writers*each {
		t.Errorf("%d lines, want %d", n, writers*each)
	}
}

func TestJSONLinesErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "audit.jsonl")); err == nil || !strings.Contains(err.Error(), "open audit log") {
		t.Errorf("open in a missing directory: %v", err)
	}
	if err := New(os.Stdout).Append(func() {}); err == nil || !strings.Contains(err.Error(), "encode audit record") {
		t.Errorf("unencodable record: %v", err)
	}
}
