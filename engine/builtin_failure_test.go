package engine

import (
	"fmt"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
)

// badPatternCharter holds every pattern the language compiles into a builtin
// call, each one malformed. charter.Parse rejects all of them; a bundle built
// some other way (an older charter, a hand-made program) must still be
// decided without a crash, and natively exactly as OPA decides it: a failed
// builtin makes its expression undefined.
func badPatternCharter(t *testing.T) *charter.Charter {
	t.Helper()
	msg, err := charter.ParseTemplate("{{object.metadata.name}}: {{field}}")
	if err != nil {
		t.Fatal(err)
	}
	path := func(root string, segs ...charter.Seg) *charter.Path {
		p := &charter.Path{Root: root, Segs: segs}
		p.Raw = p.String()
		return p
	}
	name := path("object", charter.Seg{Name: "metadata"}, charter.Seg{Name: "name"})
	leaf := func(p *charter.Path, op string, v any) *charter.Condition {
		return &charter.Condition{Leaf: &charter.Leaf{Path: p, Op: op, Value: v, HasValue: v != nil}}
	}
	article := func(id string, m charter.Match, c *charter.Condition) *charter.Article {
		return &charter.Article{ID: id, Title: id, Action: charter.ActionDeny, Severity: "high", Match: m, Violation: c, Message: msg}
	}
	pods := charter.Match{Kinds: []string{"Pod"}}
	return &charter.Charter{
		Metadata: charter.Metadata{Name: "bad-patterns"},
		Spec: charter.Spec{
			Scope: charter.Scope{ExcludeNamespaces: []string{"sys-[a"}},
			Articles: []*charter.Article{
				article("namespaces", charter.Match{Kinds: []string{"Pod"}, Namespaces: []string{"team-[ab"}}, leaf(name, "exists", nil)),
				article("exclude", charter.Match{Kinds: []string{"Pod"}, ExcludeNamespaces: []string{"x-{a"}}, leaf(name, "exists", nil)),
				article("key-glob", charter.Match{Kinds: []string{"ConfigMap"}},
					leaf(path("object", charter.Seg{Name: "data"}, charter.Seg{Kind: charter.SegGlob, Name: "k-[*"}), "exists", nil)),
				article("glob", pods, leaf(name, "glob", "p-[")),
				article("not-glob", pods, leaf(name, "notGlob", "p-[")),
				article("matches", pods, leaf(name, "matches", "(")),
				article("not-matches", pods, leaf(name, "notMatches", "(")),
				article("any-glob", pods, &charter.Condition{Any: []*charter.Condition{leaf(name, "glob", "[z"), leaf(name, "prefix", "p")}}),
			},
		},
	}
}

// TestFailedBuiltinsNeverCrash is the regression test of issue 7 item 1: a
// bad glob made the native evaluator read a failed builtin's result (a nil
// pointer in truthy) and panic.
func TestFailedBuiltinsNeverCrash(t *testing.T) {
	out, err := compiler.Compile(badPatternCharter(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundles.Compile(out)
	if err != nil {
		t.Fatal(err)
	}
	native, opa := pairBundle(t, b)
	obj := func(kind, ns string, extra map[string]any) map[string]any {
		o := map[string]any{"apiVersion": "v1", "kind": kind, "metadata": map[string]any{"name": "p-1", "namespace": ns}}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	inputs := []map[string]any{
		obj("Pod", "team-a", map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "c:1"}}}}),
		obj("Pod", "sys-a", nil),
		obj("Pod", "x-a", nil),
		obj("ConfigMap", "default", map[string]any{"data": map[string]any{"k-1": "v", "other": "w"}}),
		review("CREATE", "object", obj("Pod", "team-b", nil)),
		review("DELETE", "oldObject", obj("ConfigMap", "team-b", map[string]any{"data": map[string]any{"k-2": "v"}})),
	}
	for i, in := range inputs {
		got := sameDecision(t, native, opa, fmt.Sprintf("input %d", i), in)
		// The negated forms hold on a failed builtin (not undefined), the
		// positive ones never: so only these articles can fire.
		for _, f := range got.All() {
			switch f.Article {
			case "exclude", "not-glob", "not-matches", "any-glob":
			default:
				t.Errorf("input %d: article %s fired on a failed builtin: %+v", i, f.Article, f)
			}
		}
	}
}
