package policies

import (
	"context"
	"os"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/internal/testrun"
)

const antiDelos = "anti-delos.yaml"

// loadCharter parses, compiles and bundles a charter into an engine.
func adLoad(t *testing.T, path string) (*charter.Charter, *engine.Engine) {
	t.Helper()
	c, err := charter.Load(path)
	if err != nil {
		t.Fatalf("load %s:\n%v", path, err)
	}
	out, err := compiler.Compile(c)
	if err != nil {
		t.Fatalf("compile %s:\n%v", path, err)
	}
	b, err := bundles.Compile(out)
	if err != nil {
		t.Fatalf("bundle %s: %v", path, err)
	}
	e, err := engine.New(context.Background(), b)
	if err != nil {
		t.Fatalf("engine for %s: %v", path, err)
	}
	return c, e
}

// TestAntiDelosInlineTests runs every article's inline tests, one subtest each.
func TestAntiDelosInlineTests(t *testing.T) {
	c, e := adLoad(t, antiDelos)
	results := testrun.Run(context.Background(), e, c, nil)
	if len(results) == 0 {
		t.Fatal("anti-delos has no inline tests")
	}
	for _, r := range results {
		t.Run(r.Name(), func(t *testing.T) {
			if !r.Passed {
				t.Errorf("%s: %s", r.Pos, r.Detail)
			}
		})
	}
	t.Log(testrun.Summary(results))
}

// TestAntiDelosCoverage holds the charter to its promise: at least 12
// admission articles, each with a passing and a failing test, and the
// runtime articles the agent expects.
func TestAntiDelosCoverage(t *testing.T) {
	c, _ := adLoad(t, antiDelos)
	admission, runtime := 0, 0
	for _, a := range c.Spec.Articles {
		if a.Runtime != nil {
			runtime++
			continue
		}
		admission++
		var allow, fail bool
		for _, tc := range a.Tests {
			if tc.Expect == "allow" {
				allow = true
			} else {
				fail = true
				if tc.Expect != a.Action {
					t.Errorf("%s: test %q expects %s but the article's action is %s", a.ID, tc.Name, tc.Expect, a.Action)
				}
			}
		}
		if !allow || !fail {
			t.Errorf("%s: needs a passing (allow) and a failing test; has allow=%v fail=%v", a.ID, allow, fail)
		}
	}
	if admission < 12 {
		t.Errorf("anti-delos has %d admission articles, want at least 12", admission)
	}
	if runtime < 3 {
		t.Errorf("anti-delos has %d runtime articles, want at least 3", runtime)
	}
	if c.Spec.Council == nil || c.Spec.Council.Threshold != 2 || len(c.Spec.Council.Keys) != 3 {
		t.Errorf("council = %+v, want threshold 2 of 3 keys", c.Spec.Council)
	}
}

// TestAntiDelosMessages pins the exact text an app developer sees.
func TestAntiDelosMessages(t *testing.T) {
	_, e := adLoad(t, antiDelos)
	cases := []struct {
		file, article, path, message string
	}{
		{
			"testdata/anti-delos/pod-latest.yaml", "AD-002", "spec.containers[0].image",
			"container nginx uses image nginx:latest (spec.containers[0].image), which is untagged or :latest; " +
				"pin a version tag (app:1.4.2) or a digest (app@sha256:...)",
		},
		{
			"testdata/anti-delos/cronjob-hostpath.yaml", "AD-005", "spec.jobTemplate.spec.template.spec.volumes[0].hostPath",
			"volume varlog mounts host path /var/log (spec.jobTemplate.spec.template.spec.volumes[0].hostPath); " +
				"use an emptyDir, a configMap, a secret or a PersistentVolumeClaim instead",
		},
		{
			"testdata/anti-delos/deployment-no-limits.yaml", "AD-003", "spec.template.spec.containers[0].resources.limits.memory",
			"container api needs spec.template.spec.containers[0].resources.limits.memory above zero (found <none>); " +
				"set cpu and memory under both resources.requests and resources.limits",
		},
		{
			"testdata/anti-delos/daemonset-privileged.yaml", "AD-009", "spec.template.spec.containers[0].securityContext.capabilities.add[0]",
			"container debugger adds capabilities NET_ADMIN, SYS_ADMIN (spec.template.spec.containers[0].securityContext.capabilities.add[0]); " +
				"remove them from securityContext.capabilities.add (only NET_BIND_SERVICE is allowed)",
		},
		{
			"testdata/anti-delos/ingress-partial-tls.yaml", "AD-013", "spec.rules[1]",
			"Ingress shop-admin serves host admin.example.org (spec.rules[1]) without TLS; " +
				"add the host to spec.tls[].hosts with a certificate secret",
		},
	}
	for _, tc := range cases {
		t.Run(tc.article, func(t *testing.T) {
			d := adDecideFile(t, e, tc.file)
			var found []engine.Finding
			for _, f := range d.All() {
				if f.Article == tc.article {
					found = append(found, f)
				}
			}
			if len(found) != 1 {
				t.Fatalf("%s on %s: %d findings, want 1: %+v", tc.article, tc.file, len(found), found)
			}
			if found[0].Message != tc.message {
				t.Errorf("message:\n got: %s\nwant: %s", found[0].Message, tc.message)
			}
			if found[0].Path != tc.path {
				t.Errorf("path = %q, want %q", found[0].Path, tc.path)
			}
		})
	}
}

// TestAntiDelosScope checks the charter-wide scope and AdmissionReview input.
func TestAntiDelosScope(t *testing.T) {
	_, e := adLoad(t, antiDelos)
	priv := adReadObject(t, "testdata/anti-delos/pod-latest.yaml")

	sys := adReadObject(t, "testdata/anti-delos/pod-latest.yaml")
	sys["metadata"].(map[string]any)["namespace"] = "kube-system"
	if d := adDecide(t, e, sys); len(d.All()) != 0 {
		t.Errorf("kube-system is out of scope, got %+v", d.All())
	}

	review := func(op string) map[string]any {
		req := map[string]any{"uid": "u-1", "operation": op, "namespace": "shop"}
		if op == "DELETE" {
			req["oldObject"] = priv
		} else {
			req["object"] = priv
		}
		return map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}
	}
	if d := adDecide(t, e, review("CREATE")); d.Allowed {
		t.Errorf("CREATE of a :latest pod was allowed")
	}
	if d := adDecide(t, e, review("DELETE")); !d.Allowed || len(d.All()) != 0 {
		t.Errorf("DELETE is not matched by any article, got %+v", d)
	}

	compliant := []string{
		"testdata/anti-delos/pod-compliant.yaml",
		"testdata/anti-delos/deployment-compliant.yaml",
		"testdata/anti-delos/service-clusterip.yaml",
		"testdata/anti-delos/ingress-tls.yaml",
	}
	for _, f := range compliant {
		if d := adDecideFile(t, e, f); len(d.All()) != 0 {
			t.Errorf("%s should satisfy every article, got %+v", f, d.All())
		}
	}
}

func adReadObject(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, errs := manifest.Parse(path, data)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", path, errs)
	}
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", path, len(docs))
	}
	return docs[0].Object
}

func adDecideFile(t *testing.T, e *engine.Engine, path string) engine.Decision {
	t.Helper()
	return adDecide(t, e, adReadObject(t, path))
}

func adDecide(t *testing.T, e *engine.Engine, obj map[string]any) engine.Decision {
	t.Helper()
	d, err := e.Decide(context.Background(), obj)
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	return d
}
