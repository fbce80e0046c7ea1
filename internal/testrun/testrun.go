// Package testrun runs the inline tests of a charter's articles against the
// compiled bundle, through the same engine that enforces it.
package testrun

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/kinds"
)

// Result is the outcome of one inline test.
type Result struct {
	Article string
	Test    string
	Pos     charter.Pos
	Passed  bool
	Detail  string // why it failed
}

// Name is ARTICLE/TEST, what --run matches.
func (r Result) Name() string { return r.Article + "/" + r.Test }

// Run runs every test of c whose name matches run (nil runs all).
func Run(ctx context.Context, e *engine.Engine, c *charter.Charter, run *regexp.Regexp) []Result {
	var out []Result
	for _, a := range c.Spec.Articles {
		for _, t := range a.Tests {
			r := Result{Article: a.ID, Test: t.Name, Pos: t.Pos}
			if run != nil && !run.MatchString(r.Name()) {
				continue
			}
			r.Passed, r.Detail = check(ctx, e, a, t)
			out = append(out, r)
		}
	}
	return out
}

func check(ctx context.Context, e *engine.Engine, a *charter.Article, t *charter.Test) (bool, string) {
	objects, err := Objects(t, e.Bundle().Info.DeclaredKinds()...)
	if err != nil {
		return false, err.Error()
	}
	if len(t.Cluster) > 0 {
		if e, err = e.WithClusterData(ctx, engine.ClusterDocument(t.Cluster)); err != nil {
			return false, fmt.Sprintf("cluster data: %v", err)
		}
	}
	if len(t.Expects) > 0 && len(t.Expects) != len(objects) {
		return false, fmt.Sprintf("expect lists %d expectations but %s holds %d documents; give one per document", len(t.Expects), t.File, len(objects))
	}
	for i, obj := range objects {
		expect := t.ExpectFor(i)
		d, err := e.Decide(ctx, obj)
		if err != nil {
			return false, fmt.Sprintf("object %d: %v", i, err)
		}
		var got []engine.Finding
		for _, f := range d.All() {
			if f.Article == a.ID {
				got = append(got, f)
			}
		}
		switch {
		case expect == "allow" && len(got) > 0:
			return false, fmt.Sprintf("object %d: expected allow, got %s: %s", i, got[0].Action, got[0].Message)
		case expect != "allow" && len(got) == 0:
			return false, fmt.Sprintf("object %d: expected %s, the article found nothing", i, expect)
		case expect != "allow" && got[0].Action != expect:
			return false, fmt.Sprintf("object %d: expected %s, got %s", i, expect, got[0].Action)
		}
	}
	return true, ""
}

// Namespace is where test objects of namespaced kinds without a
// metadata.namespace are decided, as kubectl apply would send them.
const Namespace = "default"

// Objects reads the objects of a test: its inline object, or every document
// of its file, each defaulted to Namespace when it names none and its kind
// is namespaced (custom are the charter's declared custom kinds).
func Objects(t *charter.Test, custom ...kinds.Custom) ([]map[string]any, error) {
	if t.Object != nil {
		return []map[string]any{kinds.DefaultNamespace(t.Object, Namespace, custom...)}, nil
	}
	data, err := os.ReadFile(t.File)
	if err != nil {
		return nil, fmt.Errorf("read test file: %v", err)
	}
	docs, errs := manifest.Parse(t.File, data)
	if len(errs) > 0 {
		return nil, errs
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("test file %s holds no object", t.File)
	}
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		out[i] = kinds.DefaultNamespace(d.Object, Namespace, custom...)
	}
	return out, nil
}

// Summary is the closing line: "N passed, M failed".
func Summary(results []Result) string {
	passed := 0
	for _, r := range results {
		if r.Passed {
			passed++
		}
	}
	return fmt.Sprintf("%d passed, %d failed", passed, len(results)-passed)
}

// Format renders one result line.
func Format(r Result) string {
	if r.Passed {
		return "PASS " + r.Name()
	}
	return fmt.Sprintf("FAIL %s\n     %s: %s", r.Name(), r.Pos, strings.ReplaceAll(r.Detail, "\n", "\n     "))
}
