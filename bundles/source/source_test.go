package source

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/keys/keystest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const testCharter = "../../engine/testdata/charter.yaml"

// signedKeys is the Verifier trusting keystest.Shared.
func signedKeys(t *testing.T) Verifier { return Keys(keystest.Shared(t)) }

// release returns the charter's bundle signed with serial and expires
// (RFC 3339, "" for none); serial 0 leaves it unsigned.
func release(t *testing.T, serial int64, expires string) bundles.Files {
	t.Helper()
	b, _, err := bundles.FromCharters([]string{testCharter})
	if err != nil {
		t.Fatal(err)
	}
	if serial == 0 {
		return b.Files
	}
	r := bundles.Release{Serial: serial}
	if expires != "" {
		if r.Expires, err = time.Parse(time.RFC3339, expires); err != nil {
			t.Fatal(err)
		}
	}
	files, err := bundles.Sign(b.Files, keystest.Shared(t), r)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func writeTarGz(t *testing.T, p string, files bundles.Files) {
	t.Helper()
	data, err := files.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	// Write then rename, as a ConfigMap update would: a new inode.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

func TestClassify(t *testing.T) {
	dir := t.TempDir()
	bundleDir := filepath.Join(dir, "bundle")
	if err := release(t, 1, "").WriteDir(bundleDir); err != nil {
		t.Fatal(err)
	}
	charterDir := filepath.Join(dir, "charters")
	if err := os.MkdirAll(charterDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tgz := filepath.Join(dir, "b.tar.gz")
	writeTarGz(t, tgz, release(t, 1, ""))
	noExt := filepath.Join(dir, "bundle-latest")
	writeTarGz(t, noExt, release(t, 1, ""))
	for _, tc := range []struct {
		path string
		want Kind
	}{
		{testCharter, KindCharter},
		{filepath.Join(dir, "c.yml"), KindCharter},
		{charterDir, KindCharter},
		{bundleDir, KindBundleDir},
		{tgz, KindBundleFile},
		{noExt, KindBundleFile},
	} {
		if strings.HasSuffix(tc.path, ".yml") {
			if err := os.WriteFile(tc.path, []byte("kind: Charter\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := Classify(tc.path)
		if err != nil || got != tc.want {
			t.Errorf("Classify(%s) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
	if _, err := Classify(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
}

func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		ref, want string
		remote    bool
	}{
		{"bundle.tar.gz", "", false},
		{"https://bundles.example/b.tar.gz", "", true},
		{"http://127.0.0.1:8181/bundles/b", "", true},
		{"", "no bundle given", false},
		{"ftp://host/b", `unsupported scheme "ftp"`, false},
		{"https://", "not a URL with a host", false},
	} {
		s, err := Open(tc.ref, Options{})
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%q) error = %v, want %q", tc.ref, err, tc.want)
			}
			continue
		}
		if err != nil || s.Remote() != tc.remote {
			t.Errorf("Open(%q) = %v, %v", tc.ref, s, err)
		}
	}
}

func TestManifestRelease(t *testing.T) {
	for _, tc := range []struct {
		name, manifest string
		want           Release
		err            string
	}{
		{"none", `{"revision":"x"}`, Release{}, ""},
		{"serial", `{"metadata":{"serial":1700000000}}`, Release{Serial: 1700000000}, ""},
		{"expires", `{"metadata":{"serial":2,"expires":"2030-01-02T03:04:05Z"}}`, Release{Serial: 2, Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}, ""},
		{"fractional serial", `{"metadata":{"serial":1.5}}`, Release{}, "not an integer"},
		{"string serial", `{"metadata":{"serial":"7"}}`, Release{}, "not an integer"},
		{"bad expiry", `{"metadata":{"expires":"tomorrow"}}`, Release{}, "not RFC 3339"},
		{"not json", `revision: x`, Release{}, "bad .manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ManifestRelease(bundles.Files{".manifest": []byte(tc.manifest)})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got.Serial != tc.want.Serial || !got.Expires.Equal(tc.want.Expires) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if _, err := ManifestRelease(bundles.Files{}); err == nil {
		t.Error("no manifest accepted")
	}
}

func TestBackoff(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		failures int
		u        float64
		want     time.Duration
	}{
		{0, 0.9, 10 * s},
		{1, 0.5, 20 * s},
		{2, 0.5, 40 * s},
		{3, 0.5, 80 * s},
		{4, 0.5, 120 * s},
		{40, 0.5, 120 * s},
		{1, 0, 10 * s},
		{1, 0.999, 29980 * time.Millisecond},
	} {
		if got := Backoff(10*s, 120*s, tc.failures, tc.u); got != tc.want {
			t.Errorf("Backoff(%d failures, jitter %v) = %v, want %v", tc.failures, tc.u, got, tc.want)
		}
	}
}
