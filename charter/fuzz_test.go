package charter

import (
	"os"
	"path/filepath"
	"testing"
)

// seeds adds every shipped and test charter to the corpus.
func seeds(f *testing.F) {
	for _, pattern := range []string{"../policies/*.yaml", "../engine/testdata/*.yaml", "../compiler/testdata/golden/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(header + "  - {id: A, title: x, match: {kinds: [Pod]}, violation: {path: 'object.a[*][\"b*\"]', op: in, value: [1]}, message: '{{value}}'}\n"))
	f.Add([]byte(kindsCharter("  customKinds:\n  - {group: a.io, version: v1, kind: y, plural: ys, namespaced: false}\n", "[Pods, y, Y, batch/*/CronJob, Pod/exec]")))
}

// FuzzLoadKinds: loading any charter file (parse, then the checks of the
// loader: kinds, custom kinds, test files) gives a charter or positioned
// errors, never a panic.
func FuzzLoadKinds(f *testing.F) {
	seeds(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err == nil && c == nil {
			t.Fatal("nil charter without error")
		}
		if err != nil {
			list, ok := err.(ErrorList)
			if !ok || len(list) == 0 {
				t.Fatalf("error %T is not a non-empty ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.Pos.File == "" {
					t.Fatalf("error without a file: %v", e)
				}
			}
		}
	})
}

// FuzzParse: any input gives a charter or positioned errors, never a panic.
func FuzzParse(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err == nil && c == nil {
			t.Fatal("nil charter without error")
		}
		if err != nil {
			list, ok := err.(ErrorList)
			if !ok || len(list) == 0 {
				t.Fatalf("error %T is not a non-empty ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.Pos.File != "f.yaml" || e.Pos.Line < 1 {
					t.Fatalf("error without position: %v", e)
				}
			}
		}
	})
}

// FuzzParsePath: paths parse or fail cleanly, and parsed paths print back stably.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"object.a.b", `pod.metadata.annotations["x/*"]`, "container.ports[*].hostPort", "a[0][*]", `a["b\"c"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		again, err := ParsePath(p.String())
		if err != nil {
			t.Fatalf("%q printed as %q which does not parse: %v", s, p.String(), err)
		}
		if again.String() != p.String() {
			t.Fatalf("%q: %q != %q", s, again.String(), p.String())
		}
	})
}
