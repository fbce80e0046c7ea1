package source

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// persisted leaves a state directory holding the signed serial-7 bundle,
// and returns it with the source path (now removed: the source is down).
func persisted(t *testing.T) (*State, string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "b.tar.gz")
	state := &State{Dir: filepath.Join(dir, "state")}
	writeTarGz(t, p, release(t, 7, ""))
	r, _ := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	return state, p
}

func editFile(t *testing.T, p string, edit func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, edit(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// state.json's serial lowered or the file removed: the signed serial of the
// persisted bundle still holds the floor, so an older signed bundle is
// refused.
func TestStateFileSerialLowered(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, p string)
	}{
		{"lowered", func(t *testing.T, p string) {
			editFile(t, p, func(b []byte) []byte { return bytes.Replace(b, []byte(`"serial": 7`), []byte(`"serial": 1`), 1) })
		}},
		{"removed", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, p := persisted(t)
			tc.edit(t, filepath.Join(state.Dir, stateFile))
			writeTarGz(t, p, release(t, 5, ""))
			r, _ := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
			err := r.Load(context.Background())
			if ReasonOf(err) != ReasonRollback || !strings.Contains(err.Error(), "serial 5, lower than the persisted serial 7") {
				t.Fatalf("Load = %v, want a rollback refusal against the persisted bundle's signed serial 7", err)
			}
			if cur := r.Current(); cur == nil || cur.Release.Serial != 7 {
				t.Fatalf("the persisted serial-7 bundle should enforce, got %+v", cur)
			}
		})
	}
}

// The persisted bundle swapped for an older one signed by the same key:
// after a restart with the source down it must not enforce.
func TestStateBundleSwappedForLowerSerial(t *testing.T) {
	state, p := persisted(t)
	writeTarGz(t, filepath.Join(state.Dir, stateBundle), release(t, 3, ""))
	r, m := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
	if err := r.Load(context.Background()); err == nil || r.Ready() {
		t.Fatalf("Load = %v, ready %v: an older persisted bundle came into force", err, r.Ready())
	}
	if got := rejections(m, ReasonRollback); got != 1 {
		t.Errorf("rollback rejections = %v, want 1 (the swapped state bundle)", got)
	}
}

func TestStateBundleSwappedForUnverified(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files func(t *testing.T) []byte
	}{
		{"unsigned", func(t *testing.T) []byte { return mustTarGz(t, release(t, 0, "")) }},
		{"another key", func(t *testing.T) []byte { return mustTarGz(t, otherKey(t, 9)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, p := persisted(t)
			if err := os.WriteFile(filepath.Join(state.Dir, stateBundle), tc.files(t), 0o600); err != nil {
				t.Fatal(err)
			}
			r, m := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
			if err := r.Load(context.Background()); err == nil || r.Ready() {
				t.Fatalf("Load = %v, ready %v", err, r.Ready())
			}
			if got := rejections(m, ReasonUnverified); got != 1 {
				t.Errorf("unverified rejections = %v, want 1", got)
			}
		})
	}
}

func TestStateBundleTruncated(t *testing.T) {
	for _, tc := range []struct {
		name string
		cut  func([]byte) []byte
	}{
		{"half", func(b []byte) []byte { return b[:len(b)/2] }},
		{"gzip trailer", func(b []byte) []byte { return b[:len(b)-8] }},
		{"empty", func([]byte) []byte { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, p := persisted(t)
			editFile(t, filepath.Join(state.Dir, stateBundle), tc.cut)
			r, _ := newReloader(t, &Local{Paths: []string{p}}, state, signedKeys(t))
			if err := r.Load(context.Background()); err == nil || r.Ready() {
				t.Fatalf("Load = %v, ready %v: a truncated persisted bundle came into force", err, r.Ready())
			}
		})
	}
}

// A state.json that is not what Save writes stops the start: guessing a
// floor could let a rollback in.
func TestStateFileCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name, content, msg string
	}{
		{"not JSON", "serial=7", "invalid character"},
		{"unknown field", `{"serial":7,"floor":1}`, `unknown field "floor"`},
		{"negative serial", `{"serial":-1,"revision":"x"}`, "negative serial"},
		{"trailing data", `{"serial":7,"revision":"x"} {"serial":1}`, "data after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, p := persisted(t)
			if err := os.WriteFile(filepath.Join(state.Dir, stateFile), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(Config[int]{Source: &Local{Paths: []string{p}}, Activate: nil0, State: state, Logger: quiet})
			if err == nil || !strings.Contains(err.Error(), "state directory") || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("New = %v, want a state directory error saying %q", err, tc.msg)
			}
		})
	}
}

func nil0(context.Context, *bundles.Bundle) (int, error) { return 0, nil }

func rejections(m *Metrics, reason string) float64 {
	return testutil.ToFloat64(m.Rejections.WithLabelValues(reason))
}

func mustTarGz(t *testing.T, f bundles.Files) []byte {
	t.Helper()
	data, err := f.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	return data
}
