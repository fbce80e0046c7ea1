package manifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/resource"
)

// kubectlSends is what `kubectl apply -R -f paths` reads and sends, from
// kubectl's own resource builder (local: no server, unstructured objects,
// errors collected, lists flattened), as the engine sees each object.
func kubectlSends(t testing.TB, paths ...string) ([]map[string]any, error) {
	t.Helper()
	infos, err := resource.NewLocalBuilder().
		Unstructured().
		ContinueOnError().
		FilenameParam(false, &resource.FilenameOptions{Filenames: paths, Recursive: true}).
		Flatten().
		Do().
		Infos()
	var out []map[string]any
	for _, info := range infos {
		m, cerr := toEngineValue(info.Object)
		if cerr != nil {
			t.Fatalf("%s: %v", info.Source, cerr)
		}
		out = append(out, m)
	}
	return out, err
}

func objects(docs []Doc) []map[string]any {
	var out []map[string]any
	for _, d := range docs {
		out = append(out, d.Object)
	}
	return out
}

func names(objs []map[string]any) []string {
	var out []string
	for _, o := range objs {
		out = append(out, str(metadata(o), "name"))
	}
	return out
}

// TestKubectlParity: on every file of the corpus, and on the corpus as one
// directory (hidden directories and files, extensions, order), charter reads
// exactly the objects kubectl's resource builder sends, in the same order,
// and reports an error exactly where kubectl does.
func TestKubectlParity(t *testing.T) {
	const corpus = "testdata/kubectl"
	var files []string
	err := filepath.WalkDir(corpus, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	objectsCompared := 0
	for _, f := range append(files, corpus) {
		want, kerr := kubectlSends(t, f)
		docs, err := Read([]string{f}, nil)
		if !reflect.DeepEqual(objects(docs), want) {
			t.Errorf("%s: charter reads %v, kubectl sends %v", f, names(objects(docs)), names(want))
		}
		if (err != nil) != (kerr != nil) {
			t.Errorf("%s: charter error %v, kubectl error %v", f, err, kerr)
		}
		for _, d := range docs {
			if d.Line == 0 && !strings.HasSuffix(f, "utf16-bom.yaml") {
				t.Errorf("%s: object %d (%s) has no line", f, d.Index, d.Name())
			}
		}
		objectsCompared += len(want)
	}
	t.Logf("kubectl parity: %d corpus files (and the corpus as one directory), %d objects, all equal", len(files), objectsCompared)
}

// TestKubectlBypasses: each file that once passed `charter eval` while
// kubectl applied a privileged pod from it now yields that pod, at its line.
func TestKubectlBypasses(t *testing.T) {
	cases := []struct {
		file string
		name string
		line int
	}{
		{"json-stream.json", "evil", 1},
		{"list.yaml", "evil", 4},
		{"podlist-kindless-items.yaml", "evil", 4},
		{"pod-with-items.yaml", "evil", 9},
		{"dots-then-hash-separator.yaml", "evil", 6},
		{"dots-then-nbsp-separator.yaml", "evil", 6},
		{".hidden/pod.yaml", "in-hidden-dir", 1},
		{"utf16-bom.yaml", "utf16", 1},
	}
	for _, tc := range cases {
		docs, err := Read([]string{"testdata/kubectl"}, nil)
		if err == nil {
			t.Fatal("the corpus holds bad documents; Read must report them")
		}
		found := false
		for _, d := range docs {
			if d.File == filepath.Join("testdata/kubectl", tc.file) && d.Name() == tc.name {
				found = true
				if d.Line != tc.line {
					t.Errorf("%s: %s at line %d, want %d", tc.file, tc.name, d.Line, tc.line)
				}
			}
		}
		if !found {
			t.Errorf("%s: %s not read", tc.file, tc.name)
		}
	}
	docs, _ := Parse("pod-with-items.yaml", mustRead(t, "testdata/kubectl/pod-with-items.yaml"))
	if len(docs) != 1 || docs[0].Kind() != "Pod" || docs[0].Name() != "evil" {
		t.Errorf("a Pod carrying items is replaced by its items (kind inherited): %+v", docs)
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzKubectlParity: for any file content, charter reads the objects
// kubectl's resource builder sends, and fails where it fails.
func FuzzKubectlParity(f *testing.F) {
	files, _ := filepath.Glob("testdata/kubectl/*")
	more, _ := filepath.Glob("../../examples/manifests/*")
	for _, p := range append(files, more...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		want, kerr := kubectlSends(t, p)
		docs, errs := Parse(p, data)
		got := objects(docs)
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Fatalf("charter reads %s\nkubectl sends %s", g, w)
		}
		if (len(errs) > 0) != (kerr != nil) {
			t.Fatalf("charter errors %v, kubectl error %v", errs, kerr)
		}
		for _, e := range errs {
			if e.Pos.File != p {
				t.Fatalf("error without file: %v", e)
			}
		}
	})
}
