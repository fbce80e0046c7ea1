package compiler

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/charter"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden compares the generated Rego of each testdata/golden charter with
// its .rego.golden file (every module but the static library).
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.yaml")
	if len(files) == 0 {
		t.Fatal("no golden charters")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out := compileFile(t, file)
			var b strings.Builder
			for _, name := range sortedNames(out.Modules) {
				src := out.Modules[name]
				if name == "charter/runtime.rego" {
					continue // static
				}
				if name == "charter/lib.rego" {
					src = src[strings.Index(src, "# The charter's scope"):]
				}
				b.WriteString("#### " + name + "\n" + src + "\n")
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".rego.golden"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./compiler -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("generated Rego differs from %s; run go test ./compiler -run TestGolden -update and review the diff", golden)
			}
		})
	}
}

func compileFile(t testing.TB, file string) *Output {
	t.Helper()
	c, err := charter.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFormatStable: opa fmt leaves every generated module unchanged.
func TestFormatStable(t *testing.T) {
	out := compileFile(t, "testdata/golden/constructs.yaml")
	for name, src := range out.Modules {
		got, err := format.SourceWithOpts(name, []byte(src), format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(got) != src {
			t.Errorf("%s changes under opa fmt", name)
		}
	}
}

// TestMetadata: every article module carries its title and custom id, severity, action.
func TestMetadata(t *testing.T) {
	out := compileFile(t, "testdata/golden/constructs.yaml")
	mod, err := ast.ParseModuleWithOpts("m", out.Modules["charter/articles/c_leaf.rego"], ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(mod.Annotations) != 1 {
		t.Fatalf("annotations = %d", len(mod.Annotations))
	}
	a := mod.Annotations[0]
	if a.Title != "A single leaf over a container" || a.Custom["id"] != "C-leaf" || a.Custom["severity"] != "high" || a.Custom["action"] != "deny" {
		t.Errorf("annotation = %+v", a)
	}
}

func TestInfo(t *testing.T) {
	out := compileFile(t, "testdata/golden/constructs.yaml")
	if len(out.Info.Runtime) != 1 || out.Info.Runtime[0].Article != "C-runtime" || out.Info.Runtime[0].Runtime.Connect.Deny[1] != "[fd00::/8]:53" {
		t.Errorf("runtime = %+v", out.Info.Runtime)
	}
	if a := out.Info.Articles["C-quantity"]; a.Action != "audit" || a.Package != "charter.articles.c_quantity" {
		t.Errorf("article info = %+v", a)
	}
	if _, ok := out.Modules["charter/articles/c_runtime.rego"]; ok {
		t.Error("a runtime-only article got a Rego module")
	}
}

func TestHatchErrorsPointIntoCharter(t *testing.T) {
	dir := t.TempDir()
	src := "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: t}\nspec:\n  articles:\n  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    rego: |\n      resource.spec\n      undefined_function(resource)\n    message: m\n"
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := charter.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(c)
	if err == nil || !strings.Contains(err.Error(), p+":11:") || !strings.Contains(err.Error(), "undefined function") {
		t.Fatalf("error = %v, want %s:11:...: undefined function", err, p)
	}
}
