package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/charter"
	"github.com/open-policy-agent/opa/v1/ast"
)

// FuzzCompile: whatever parses compiles to Rego that OPA parses again, or
// fails with positioned errors; the generator itself never produces bad Rego.
func FuzzCompile(f *testing.F) {
	for _, pattern := range []string{"../policies/*.yaml", "testdata/golden/*.yaml", "../engine/testdata/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := charter.Parse("f.yaml", data)
		if err != nil {
			return
		}
		out, err := Compile(c)
		if err != nil {
			if strings.Contains(err.Error(), "a charter bug") {
				t.Fatalf("generator bug: %v", err)
			}
			return
		}
		for name, src := range out.Modules {
			if _, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1}); err != nil {
				t.Fatalf("%s does not re-parse: %v", name, err)
			}
		}
	})
}
