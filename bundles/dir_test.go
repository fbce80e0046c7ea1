package bundles

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// userFiles are what a user keeps beside a bundle: a git checkout, notes.
var userFiles = map[string]string{
	".git/HEAD":          "ref: refs/heads/main\n",
	".git/config":        "[core]\n",
	"README.md":          "my notes\n",
	"charter/notes.txt":  "kept beside the modules\n",
	"docs/design.txt":    "unrelated\n",
	".github/ci.yaml":    "on: push\n",
	"charter/keep/a.txt": "a user file in a directory the bundle also uses\n",
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for n, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshot is every file under dir with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		got[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// withRevision gives hand-made files the manifest charter would write.
func withRevision(f Files) Files {
	f[".manifest"] = []byte(`{"revision":"` + f.digest() + `","roots":["charter"]}`)
	return f
}

func TestWriteDirKeepsUserFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "b")
	earlier := withRevision(Files{
		"data.json":                  []byte(`{"charter":{}}`),
		"charter/articles/gone.rego": []byte("package charter.articles.gone\n"),
		"charter/old/only.rego":      []byte("package charter.old\n"),
	})
	if err := earlier.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, userFiles)
	files := build(t, "../compiler/testdata/golden/constructs.yaml")
	if err := files.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, dir)
	for n, want := range userFiles {
		if got[n] != want {
			t.Errorf("user file %s = %q after the build, want %q", n, got[n], want)
		}
	}
	for n := range earlier {
		if _, again := files[n]; !again && got[n] != "" {
			t.Errorf("stale bundle file %s survived", n)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "charter/old")); !os.IsNotExist(err) {
		t.Errorf("the directory the earlier bundle alone used survived: %v", err)
	}
	for n, data := range files {
		if got[n] != string(data) {
			t.Errorf("bundle file %s not written", n)
		}
	}
	b, err := ReadFile(dir)
	if err != nil {
		t.Fatalf("read the bundle back beside user files: %v", err)
	}
	if b.Revision() != files.digest() {
		t.Errorf("revision = %s, want %s", b.Revision(), files.digest())
	}
}

func TestWriteDirRefusesAndTouchesNothing(t *testing.T) {
	files := build(t, "../compiler/testdata/golden/constructs.yaml")
	cases := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    string
	}{
		{"user files and no bundle", func(t *testing.T, dir string) {
			writeTree(t, dir, userFiles)
		}, "holds no bundle"},
		{"a git checkout with a policy but no manifest", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{".git/HEAD": "x", "policy/mine.rego": "package mine\n"})
		}, "holds no bundle"},
		{"a bundle module edited by hand", func(t *testing.T, dir string) {
			if err := files.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			writeTree(t, dir, userFiles)
			writeTree(t, dir, map[string]string{"charter/lib.rego": "package charter.lib\n# mine now\n"})
		}, "changed or added since charter wrote them"},
		{"a module added by hand", func(t *testing.T, dir string) {
			if err := files.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			writeTree(t, dir, userFiles)
			writeTree(t, dir, map[string]string{"charter/mine.rego": "package charter.mine\n"})
		}, "changed or added since charter wrote them"},
		{"a bundle charter did not build", func(t *testing.T, dir string) {
			writeTree(t, dir, userFiles)
			writeTree(t, dir, map[string]string{".manifest": `{"revision":"v1"}`, "x/policy.rego": "package x\n"})
		}, "charter did not build"},
		{"a manifest that is not JSON", func(t *testing.T, dir string) {
			writeTree(t, dir, userFiles)
			writeTree(t, dir, map[string]string{".manifest": "revision: v1"})
		}, "bad .manifest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(t, dir)
			before := snapshot(t, dir)
			err := files.WriteDir(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("error = %v, want a refusal saying %q", err, tc.want)
			}
			after := snapshot(t, dir)
			if len(after) != len(before) {
				t.Errorf("%d files before, %d after", len(before), len(after))
			}
			for n, data := range before {
				if after[n] != data {
					t.Errorf("%s changed although the write was refused", n)
				}
			}
		})
	}
}

func TestIsBundleFile(t *testing.T) {
	for name, want := range map[string]bool{
		".manifest": true, ".signatures.json": true, "data.json": true, "charter/data.json": true,
		"data.yaml": true, "charter/lib.rego": true, "policy.wasm": true,
		"README.md": false, ".git/HEAD": false, "charter/notes.txt": false, "data.json.bak": false,
	} {
		if got := IsBundleFile(name); got != want {
			t.Errorf("IsBundleFile(%q) = %v, want %v", name, got, want)
		}
	}
}
