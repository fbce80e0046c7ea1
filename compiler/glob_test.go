package compiler

import (
	"context"
	"testing"

	"github.com/charter-dev/charter/charter"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// TestGlobValidationIsOPAs: a glob charter validation accepts is exactly a
// glob OPA's glob.match(pattern, null, s) compiles, the call every generated
// glob test makes.
func TestGlobValidationIsOPAs(t *testing.T) {
	patterns := []string{
		"team-*", "team-[ab]", "team-[ab", "team-[!a]", "team-[a-", "{a,b}", "{a,b", "a}", "?", "**", `\*`, `a\`,
		"[]", "[a-z]*", "[z-a]", "x-{a,{b,c}}", "", "kube-*", "*.example.com", "[[]", "[]]", "{}", "{,}",
	}
	ctx := context.Background()
	rejected := 0
	for _, p := range patterns {
		_, err := rego.New(
			rego.ParsedQuery(ast.MustParseBodyWithOpts(`glob.match(`+term(p)+`, null, "team-a")`, ast.ParserOptions{RegoVersion: ast.RegoV1})),
			rego.StrictBuiltinErrors(true),
		).Eval(ctx)
		_, cerr := charter.CompileGlob(p)
		if (err == nil) != (cerr == nil) {
			t.Errorf("pattern %q: OPA error %v, validation error %v", p, err, cerr)
		}
		if err != nil {
			rejected++
		}
	}
	if rejected == 0 || rejected == len(patterns) {
		t.Fatalf("%d of %d patterns rejected: the table no longer tells the two apart", rejected, len(patterns))
	}
}

// TestGlobCallsUseNoDelimiters: every glob.match the compiler writes passes
// null delimiters, the delimiters charter.CompileGlob validates with.
func TestGlobCallsUseNoDelimiters(t *testing.T) {
	out := compileFile(t, "testdata/golden/constructs.yaml")
	calls := 0
	for name, src := range out.Modules {
		mod := ast.MustParseModuleWithOpts(src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		ast.WalkExprs(mod, func(e *ast.Expr) bool {
			if !e.IsCall() || e.Operator().String() != ast.GlobMatch.Name {
				return false
			}
			calls++
			if _, null := e.Operand(1).Value.(ast.Null); !null {
				t.Errorf("%s: %v passes delimiters %v", name, e, e.Operand(1))
			}
			return false
		})
	}
	if calls < 2 {
		t.Fatalf("found %d glob.match calls; the test no longer looks at what it means to", calls)
	}
}
