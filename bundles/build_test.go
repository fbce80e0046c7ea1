package bundles

import (
	"bytes"
	"os"
	"path/filepath"
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
		if !strings.HasPrefix(b.Revision(), "sha256:") || b.Manifest.RegoVersion != 1 || b.Manifest.Roots[0] != "charter" {
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
