package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func explainPod(ns string, labels map[string]any, spec map[string]any) map[string]any {
	meta := map[string]any{"name": "p", "namespace": ns}
	if labels != nil {
		meta["labels"] = labels
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
}

func containers(cs ...map[string]any) map[string]any {
	list := make([]any, len(cs))
	for i, c := range cs {
		list[i] = c
	}
	return map[string]any{"containers": list}
}

// TestExplain: each article's verdict, its reason and the trace of the
// condition that decided, for the ways an article fires, passes or is
// skipped.
func TestExplain(t *testing.T) {
	e := load(t, "testdata/explain.yaml")
	privileged := map[string]any{"name": "app", "image": "app:1", "securityContext": map[string]any{"privileged": true}}
	pinned := map[string]any{"name": "app", "image": "app:1"}
	service := func(ns string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "s", "namespace": ns}, "spec": map[string]any{"type": "NodePort"}}
	}
	type want struct {
		verdict Verdict
		reason  string   // a substring of the reason
		trace   []string // lines of the first check's trace, in order
		at      string   // the first check's element
	}
	cases := []struct {
		name    string
		input   map[string]any
		applies bool
		want    map[string]want
	}{
		{"a privileged container fires, the first branch that holds is shown", explainPod("shop", nil, containers(privileged)), true, map[string]want{
			"E-1": {Fired, `matched kind Pod, operation CREATE, namespace "shop"`, []string{"true: any", "  true: spec.containers[0].securityContext.privileged equals true; seen: spec.containers[0].securityContext.privileged = true"}, "spec.containers[0]"},
			"E-2": {Skipped, "kind Pod is not matched (match.kinds: Service)", nil, ""},
			"E-3": {Skipped, `labels {} do not satisfy match.labelSelector`, nil, ""},
		}},
		{"a pass shows every false branch with the value seen", explainPod("shop", map[string]any{"tier": "web"}, containers(pinned)), true, map[string]want{
			"E-1": {Passed, "matched kind Pod", []string{"false: any", "  false: spec.containers[0].securityContext.privileged equals true; the path reaches nothing", `  false: spec.containers[0].image suffix ":latest"; seen: spec.containers[0].image = "app:1"`}, "spec.containers[0]"},
			"E-3": {Passed, "matched kind Pod", []string{"false: all", "  false: object.spec.hostNetwork equals true; the path reaches nothing"}, ""},
		}},
		{"an all that holds shows every branch", explainPod("shop", map[string]any{"tier": "web"}, map[string]any{"hostNetwork": true}), true, map[string]want{
			"E-1": {Passed, "no containers: nothing to check", nil, ""},
			"E-3": {Fired, "matched", []string{"true: all", "  true: object.spec.hostNetwork equals true; seen: spec.hostNetwork = true", "  true: object.metadata.annotations.reviewed absent; the path reaches nothing"}, ""},
		}},
		{"a pod template is checked where it sits", map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "d", "namespace": "shop"},
			"spec": map[string]any{"template": map[string]any{"spec": containers(privileged)}}}, true, map[string]want{
			"E-1": {Fired, "matched kind Deployment", []string{"true: any", "  true: spec.template.spec.containers[0].securityContext.privileged equals true; seen: spec.template.spec.containers[0].securityContext.privileged = true"}, "spec.template.spec.containers[0]"},
			"E-3": {Skipped, `labels {} do not satisfy match.labelSelector`, nil, ""},
		}},
		{"the charter's scope skips everything", explainPod("kube-system", nil, containers(privileged)), false, map[string]want{
			"E-1": {Skipped, `namespace "kube-system" is excluded by the charter's scope (excludeNamespaces: kube-system)`, nil, ""},
			"E-2": {Skipped, `namespace "kube-system" is excluded by the charter's scope`, nil, ""},
		}},
		{"an article's namespaces", service("dev"), false, map[string]want{
			"E-1": {Skipped, "kind Service is not matched (match.kinds: Pod): it embeds no pod", nil, ""},
			"E-2": {Skipped, `namespace "dev" is not matched (match.namespaces: prod)`, nil, ""},
		}},
		{"an article's operations", review("DELETE", "oldObject", service("prod")), false, map[string]want{
			"E-2": {Skipped, "operation DELETE is not matched (match.operations: CREATE)", nil, ""},
		}},
		{"a match fires", service("prod"), true, map[string]want{
			"E-2": {Fired, `matched kind Service, operation CREATE, namespace "prod"`, []string{`true: object.spec.type equals "NodePort"; seen: spec.type = "NodePort"`}, ""},
		}},
		{"an input without an object", map[string]any{"kind": "AdmissionReview", "request": map[string]any{"operation": "DELETE"}}, false, map[string]want{
			"E-1": {Skipped, "the input has no object", nil, ""},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, err := e.Explain(context.Background(), tc.input)
			if err != nil {
				t.Fatal(err)
			}
			if x.Applies() != tc.applies {
				t.Errorf("Applies() = %v, want %v", x.Applies(), tc.applies)
			}
			for _, a := range x.Articles {
				w, ok := tc.want[a.Article]
				if !ok {
					continue
				}
				if a.Verdict != w.verdict || !strings.Contains(a.Reason, w.reason) {
					t.Errorf("%s: %s (%s), want %s (%s)", a.Article, a.Verdict, a.Reason, w.verdict, w.reason)
				}
				if w.trace == nil {
					continue
				}
				if len(a.Checks) == 0 {
					t.Fatalf("%s: no checks", a.Article)
				}
				if a.Checks[0].At != w.at || !reflect.DeepEqual(a.Checks[0].Trace, w.trace) {
					t.Errorf("%s: check at %q:\n%s\nwant at %q:\n%s", a.Article, a.Checks[0].At, strings.Join(a.Checks[0].Trace, "\n"), w.at, strings.Join(w.trace, "\n"))
				}
				if a.Checks[0].Holds != (w.trace[0][:4] == "true") {
					t.Errorf("%s: check holds %v, trace %v", a.Article, a.Checks[0].Holds, w.trace)
				}
			}
		})
	}
}

// TestExplainAgreesWithDecision: on every object the repository ships as
// test data, raw and as CREATE and DELETE reviews, an article explain calls
// fired has exactly the findings of the compiled Rego decision (OPA alone),
// and an article it passes or skips has none; the native decision counts as
// applied exactly the articles explain does not skip.
func TestExplainAgreesWithDecision(t *testing.T) {
	charters := []string{"../policies/anti-delos.yaml", "../policies/pod-security-restricted.yaml", "../examples/charters/update-rules.yaml",
		"../examples/charters/container-limits.yaml", "testdata/explain.yaml", "testdata/edges.yaml", "testdata/podtemplates.yaml", "testdata/charter.yaml"}
	objects := corpus(t)
	for _, path := range charters {
		t.Run(filepath.Base(path), func(t *testing.T) {
			native, opa := pair(t, path)
			fired, applied := 0, 0
			for i, in := range objects {
				x, err := native.Explain(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				d, err := opa.Decide(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				_, applied, err := native.DecideApplied(context.Background(), in, nil)
				if err != nil {
					t.Fatal(err)
				}
				_, unknown, err := opa.DecideApplied(context.Background(), in, nil)
				if err != nil {
					t.Fatal(err)
				}
				notSkipped := 0
				for _, a := range x.Articles {
					if a.Verdict != Skipped {
						notSkipped++
					}
				}
				if applied != notSkipped || unknown != -1 {
					t.Fatalf("object %d (%s): the native decision says %d articles applied, explain %d (OPA alone: %d, want -1)", i, what(in), applied, notSkipped, unknown)
				}
				byArticle := map[string][]string{}
				for _, f := range d.All() {
					byArticle[f.Article] = append(byArticle[f.Article], f.Message+" @ "+f.Path)
				}
				for _, a := range x.Articles {
					var got []string
					for _, f := range a.Findings {
						got = append(got, f.Message+" @ "+f.Path)
					}
					sort.Strings(got)
					want := byArticle[a.Article]
					sort.Strings(want)
					switch {
					case (a.Verdict == Fired) != (len(want) > 0):
						t.Fatalf("object %d (%s): %s is %s (%s) but the decision has %d findings: %v", i, what(in), a.Article, a.Verdict, a.Reason, len(want), want)
					case !slices.Equal(got, want):
						t.Fatalf("object %d (%s): %s explained findings %v, decision %v", i, what(in), a.Article, got, want)
					case a.Verdict == Skipped && (a.Reason == "" || len(a.Checks) > 0):
						t.Fatalf("object %d: %s skipped without a reason or with checks: %+v", i, a.Article, a)
					}
					if a.Verdict == Fired {
						fired++
					}
					if a.Verdict != Skipped {
						applied++
					}
					for _, c := range a.Checks {
						if len(c.Trace) == 0 || strings.HasPrefix(c.Trace[0], "true") != c.Holds {
							t.Fatalf("object %d: %s check at %q holds %v, trace %v", i, a.Article, c.At, c.Holds, c.Trace)
						}
					}
				}
				delete(byArticle, "")
				for id := range byArticle {
					if !slices.ContainsFunc(x.Articles, func(a ArticleExplanation) bool { return a.Article == id }) {
						t.Fatalf("object %d: the decision names %s, explain does not", i, id)
					}
				}
			}
			if fired == 0 || applied == fired {
				t.Errorf("the corpus neither fires nor passes articles of %s (fired %d, applied %d): the test would prove nothing", path, fired, applied)
			}
		})
	}
}

// what names an input in failure messages.
func what(in map[string]any) string {
	if r, ok := in["request"].(map[string]any); ok {
		obj, _ := r["object"].(map[string]any)
		if obj == nil {
			obj, _ = r["oldObject"].(map[string]any)
		}
		return fmt.Sprintf("%v review of %s", r["operation"], what(obj))
	}
	meta, _ := in["metadata"].(map[string]any)
	return fmt.Sprintf("%v %v/%v", in["kind"], meta["namespace"], meta["name"])
}
