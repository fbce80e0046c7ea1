package bundles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
)

func build(t *testing.T, path string) Files {
	t.Helper()
	return buildTB(t, path)
}

func buildTB(t testing.TB, path string) Files {
	t.Helper()
	c, err := charter.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := compiler.Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	f, err := FromOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDeterministic(t *testing.T) {
	const src = "../compiler/testdata/golden/constructs.yaml"
	a, err := build(t, src).TarGz()
	if err != nil {
		t.Fatal(err)
	}
	b, err := build(t, src).TarGz()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of one charter differ")
	}
}

func TestRoundTrip(t *testing.T) {
	files := build(t, "../compiler/testdata/golden/constructs.yaml")
	tgz, err := files.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "b.tar.gz")
	if err := os.WriteFile(p, tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "dir")
	if err := files.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{p, dir} {
		b, err := ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.Revision(), "sha256:") || b.Manifest.RegoVersion != 1 || !slices.Equal(b.Manifest.Roots, []string{"charter", "charter_overrides"}) {
			t.Errorf("%s: manifest = %+v", from, b.Manifest)
		}
		if b.Info.Name != "constructs" || len(b.Info.Runtime) != 1 {
			t.Errorf("%s: info = %+v", from, b.Info)
		}
		if len(b.OPA.Modules) != len(files)-2 {
			t.Errorf("%s: %d modules, want %d", from, len(b.OPA.Modules), len(files)-2)
		}
	}
}

func TestRevisionFollowsContent(t *testing.T) {
	files := build(t, "../compiler/testdata/golden/constructs.yaml")
	before := files.digest()
	files["charter/lib.rego"] = append(files["charter/lib.rego"], '\n')
	if files.digest() == before {
		t.Fatal("changing a policy file did not change the revision")
	}
}

func TestReadRejectsBadArchives(t *testing.T) {
	tampered := build(t, "../compiler/testdata/golden/constructs.yaml")
	tampered["charter/lib.rego"] = append(tampered["charter/lib.rego"], []byte("\nextra := 1\n")...)
	good := mustTarGz(t, build(t, "../compiler/testdata/golden/constructs.yaml"))
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("hello"), "not a gzip archive"},
		{"no manifest", mustTarGz(t, Files{"data.json": []byte("{}")}), "no .manifest"},
		{"bad rego", mustTarGz(t, Files{".manifest": []byte(`{"revision":"x","roots":["charter"]}`), "charter/x.rego": []byte("package charter\nallow if {")}), "parse bundle"},
		{"escape", mustTarGz(t, Files{".manifest": []byte(`{}`), "../../etc/passwd": []byte("x")}), "bad path"},
		{"tampered", mustTarGz(t, tampered), "does not match its revision"},
		{"gzip trailer cut", good[:len(good)-8], "truncated or corrupt after the last entry"},
		{"gzip CRC altered", append(bytes.Clone(good[:len(good)-8]), 0, 0, 0, 0, good[len(good)-4], good[len(good)-3], good[len(good)-2], good[len(good)-1]), "truncated or corrupt after the last entry"},
		{"cut mid-archive", good[:len(good)/2], "unexpected EOF"},
		{"entry after the end marker", hiddenEntry(t, good), "data follows the end of the tar archive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, err := ReadTarGz(bytes.NewReader(tc.data))
			if err == nil {
				_, err = Parse(files)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func mustTarGz(t *testing.T, f Files) []byte {
	t.Helper()
	data, err := f.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// hiddenEntry re-compresses tgz with one more tar entry after the
// end-of-archive marker.
func hiddenEntry(t *testing.T, tgz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var extra bytes.Buffer
	tw := tar.NewWriter(&extra)
	body := []byte("package charter\n")
	if err := tw.WriteHeader(&tar.Header{Name: "charter/hidden.rego", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(raw)
	zw.Write(extra.Bytes())
	zw.Close()
	return out.Bytes()
}
