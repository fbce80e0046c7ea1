package policies

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/charter-dev/charter/internal/testrun"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// TestPSSInlineTests runs every inline test of both charters (the restricted
// one runs the included baseline tests too).
func TestPSSInlineTests(t *testing.T) {
	for level, c := range pssEngines(t) {
		results := testrun.Run(context.Background(), c.engine, c.charter, nil)
		if len(results) < 2*len(c.charter.Spec.Articles) {
			t.Errorf("%s: %d inline tests for %d articles", level, len(results), len(c.charter.Spec.Articles))
		}
		for _, r := range results {
			t.Run(string(level)+"/"+r.Name(), func(t *testing.T) {
				if !r.Passed {
					t.Errorf("%s: %s", r.Pos, r.Detail)
				}
			})
		}
	}
}

// TestPSSArticles holds the charters to the upstream registry: one article per
// check, at the check's level, each with a passing and a failing test.
func TestPSSArticles(t *testing.T) {
	charters := pssEngines(t)
	want := map[api.Level][]string{}
	// A restricted check that overrides a baseline check replaces its article
	// in the restricted charter (overrides:), as OverrideCheckIDs does upstream.
	overridden := map[policy.CheckID]bool{}
	for _, c := range policy.DefaultChecks() {
		for _, id := range c.Versions[len(c.Versions)-1].OverrideCheckIDs {
			overridden[id] = true
		}
	}
	for _, c := range policy.DefaultChecks() {
		article, ok := pssArticles[c.ID]
		if !ok {
			t.Errorf("upstream check %s has no article", c.ID)
			continue
		}
		if !strings.HasPrefix(article, "pss-"+string(c.Level)+"-") {
			t.Errorf("article %s implements %s check %s", article, c.Level, c.ID)
		}
		if !overridden[c.ID] {
			want[api.LevelRestricted] = append(want[api.LevelRestricted], article)
		}
		if c.Level == api.LevelBaseline {
			want[api.LevelBaseline] = append(want[api.LevelBaseline], article)
		}
	}
	if len(pssArticles) != len(policy.DefaultChecks()) {
		t.Errorf("mapping has %d entries for %d upstream checks", len(pssArticles), len(policy.DefaultChecks()))
	}
	for level, c := range charters {
		var got []string
		for _, a := range c.charter.Spec.Articles {
			got = append(got, a.ID)
			if a.Action != "deny" {
				t.Errorf("%s: action %s, want deny", a.ID, a.Action)
			}
			expects := map[string]bool{}
			for _, test := range a.Tests {
				expects[test.Expect] = true
			}
			if !expects["deny"] || !expects["allow"] {
				t.Errorf("%s needs a failing and a passing inline test, has %v", a.ID, expects)
			}
		}
		sort.Strings(got)
		sort.Strings(want[level])
		if strings.Join(got, " ") != strings.Join(want[level], " ") {
			t.Errorf("%s charter articles:\n got %v\nwant %v", level, got, want[level])
		}
	}
}

// TestPSSOverrides pins where the restricted charter departs from the
// baseline articles it includes, as upstream's OverrideCheckIDs do: a
// restricted article overrides the baseline article it replaces, which then
// neither denies what the restricted article allows nor reports beside it.
func TestPSSOverrides(t *testing.T) {
	charters := pssEngines(t)
	pod := func(spec map[string]any) map[string]any {
		spec["containers"] = []any{map[string]any{"name": "app", "image": "app", "securityContext": map[string]any{
			"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}},
		}}}
		if _, ok := spec["securityContext"]; !ok {
			spec["securityContext"] = map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}
		}
		return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"}, "spec": spec}
	}
	windowsCaps := pod(map[string]any{"os": map[string]any{"name": "windows"}})
	windowsCaps["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["securityContext"] = map[string]any{
		"capabilities": map[string]any{"add": []any{"SYS_ADMIN"}},
	}
	cases := []struct {
		name       string
		obj        map[string]any
		baseline   []string
		restricted []string
	}{
		{"windows pod adds SYS_ADMIN", windowsCaps, []string{"pss-baseline-capabilities"}, nil},
		{"windows pod with unconfined seccomp", pod(map[string]any{
			"os": map[string]any{"name": "windows"}, "securityContext": map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "Unconfined"}},
		}), []string{"pss-baseline-seccomp"}, nil},
		{"linux pod with unconfined seccomp", pod(map[string]any{
			"securityContext": map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "Unconfined"}},
		}), []string{"pss-baseline-seccomp"}, []string{"pss-restricted-seccomp"}},
		{"volume with hostPath and emptyDir", pod(map[string]any{
			"volumes": []any{map[string]any{"name": "v", "hostPath": map[string]any{"path": "/"}, "emptyDir": map[string]any{}}},
		}), []string{"pss-baseline-host-path-volumes"}, nil},
		{"hostPath volume", pod(map[string]any{
			"volumes": []any{map[string]any{"name": "v", "hostPath": map[string]any{"path": "/"}}},
		}), []string{"pss-baseline-host-path-volumes"}, []string{"pss-restricted-volume-types"}},
		{"unmasked proc in a user namespace", pod(map[string]any{"hostUsers": false, "containers": nil}), nil, nil},
	}
	// The last case sets procMount on its container.
	um := cases[len(cases)-1].obj["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["securityContext"].(map[string]any)
	um["procMount"] = "Unmasked"
	cases[len(cases)-1].restricted = []string{"pss-restricted-proc-mount"}
	oracle := newPSSOracle(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			typed, err := pssTyped(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			for level, want := range map[api.Level][]string{api.LevelBaseline: tc.baseline, api.LevelRestricted: tc.restricted} {
				got, err := pssDecide(charters[level].engine, tc.obj)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(got.Articles, " ") != strings.Join(want, " ") || got.Allowed != (len(want) == 0) {
					t.Errorf("%s: allowed=%v articles=%v, want %v\n%s", level, got.Allowed, got.Articles, want, got.Detail)
				}
				if up := oracle.expect(level, typed); up.Allowed != got.Allowed {
					t.Errorf("%s: upstream allowed=%v, charter %v", level, up.Allowed, got.Allowed)
				}
			}
		})
	}
}

// TestPSSMessages checks that findings name the container or volume, the
// field, the offending value, and the fix.
func TestPSSMessages(t *testing.T) {
	engines := pssEngines(t)
	cases := []struct {
		file    string
		article string
		path    string
		words   []string
	}{
		{"testdata/pss/baseline/privileged.yaml", "pss-baseline-privileged", "spec.initContainers[0].securityContext.privileged", []string{"container setup", "privileged=true", "remove"}},
		{"testdata/pss/baseline/capabilities.yaml", "pss-baseline-capabilities", "spec.containers[0].securityContext.capabilities.add[1]", []string{"container app", "NET_RAW, SYS_ADMIN", "add only"}},
		{"testdata/pss/baseline/host-path.yaml", "pss-baseline-host-path-volumes", "spec.volumes[0].hostPath", []string{"volume docker-sock", "/var/run/docker.sock", "emptyDir"}},
		{"testdata/pss/baseline/host-ports.yaml", "pss-baseline-host-ports", "spec.containers[0].ports[0].hostPort", []string{"container app", "8080", "Service"}},
		{"testdata/pss/baseline/apparmor-annotation.yaml", "pss-baseline-apparmor", `metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]`, []string{"unconfined", "runtime/default"}},
		{"testdata/pss/baseline/sysctls.yaml", "pss-baseline-sysctls", "spec.securityContext.sysctls[0].name", []string{"kernel.msgmax", "net.ipv4.tcp_syncookies"}},
		{"testdata/pss/baseline/seccomp.yaml", "pss-baseline-seccomp", "spec.securityContext.seccompProfile.type", []string{"Unconfined", "RuntimeDefault"}},
		{"testdata/pss/restricted/volume-nfs.yaml", "pss-restricted-volume-types", "spec.volumes[0].nfs", []string{"volume shared", "nfs", "persistentVolumeClaim"}},
		{"testdata/pss/restricted/capabilities.yaml", "pss-restricted-capabilities", "spec.containers[0]", []string{"container app", "NET_BIND_SERVICE", `drop=["ALL"]`}},
		{"testdata/pss/restricted/run-as-user.yaml", "pss-restricted-run-as-user", "spec.securityContext.runAsUser", []string{"runAsUser=0", "container app", "non-zero"}},
	}
	for _, tc := range cases {
		t.Run(tc.article, func(t *testing.T) {
			obj, err := pssReadObject(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			// Baseline articles the restricted charter overrides are asked of the baseline charter.
			level := api.LevelRestricted
			if strings.HasPrefix(tc.article, "pss-baseline-") {
				level = api.LevelBaseline
			}
			d, err := engines[level].engine.Decide(context.Background(), obj)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range d.Violations {
				if f.Article != tc.article {
					continue
				}
				found = true
				if f.Path != tc.path {
					t.Errorf("path %q, want %q", f.Path, tc.path)
				}
				for _, w := range tc.words {
					if !strings.Contains(f.Message, w) {
						t.Errorf("message lacks %q: %s", w, f.Message)
					}
				}
			}
			if !found {
				t.Errorf("no %s finding: %+v", tc.article, d)
			}
		})
	}
}
