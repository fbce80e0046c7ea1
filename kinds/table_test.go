package kinds

import (
	"strings"
	"testing"
)

var rollout = []Custom{{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout", Namespaced: true}}

func TestCheck(t *testing.T) {
	cases := []struct {
		kind   string
		custom []Custom
		want   string // "" for valid; else a substring of the message
	}{
		{"Pod", nil, ""},
		{"*", nil, ""},
		{"CronJob", nil, ""},
		{"PodExecOptions", nil, ""},
		{"CustomResourceDefinition", nil, ""}, // served by every apiserver, not in client-go's scheme
		{"APIService", nil, ""},
		{"CustomResourceDefinitions", nil, `did you mean CustomResourceDefinition (apiextensions.k8s.io/v1)?`},
		{"Rollout", rollout, ""},
		{"Pods", nil, `unknown kind "Pods"; did you mean Pod (v1)?`},
		{"pods", nil, `did you mean Pod (v1)?`},
		{"cronjob", nil, `unknown kind "cronjob"; did you mean CronJob (batch/v1)?`},
		{"cronjobs", nil, `did you mean CronJob (batch/v1)?`},
		{"Ingresses", nil, `did you mean Ingress (networking.k8s.io/v1)?`},
		{"NetworkPolicies", nil, `did you mean NetworkPolicy (networking.k8s.io/v1)?`},
		{"Deplyment", nil, `did you mean Deployment (apps/v1)?`},
		{"batch/*/CronJob", nil, `"batch/*/CronJob": a kind is named alone, without group or version; did you mean CronJob (batch/v1)?`},
		{"apps/v1/Deployment", nil, `did you mean Deployment (apps/v1)?`},
		{"v1/pod", nil, `unknown kind "v1/pod"; did you mean Pod (v1)?`},
		{"Pod/exec", nil, `"Pod/exec" is not a kind: admission sees the pods/exec subresource as kind PodExecOptions (v1) with operations [CONNECT]; write kinds: [PodExecOptions], operations: [CONNECT]`},
		{"pods/exec", nil, `as kind PodExecOptions (v1)`},
		{"pods/eviction", nil, `as kind Eviction (policy/v1) with operations [CREATE]`},
		{"deployments/scale", nil, `as kind Scale (autoscaling/v1)`},
		{"Rolout", rollout, `did you mean Rollout (argoproj.io/v1alpha1, declared in spec.customKinds)?`},
		{"argoproj.io/v1alpha1/Rollout", rollout, `a kind is named alone, without group or version; did you mean Rollout (argoproj.io/v1alpha1, declared in spec.customKinds)?`},
		{"rollouts", rollout, `did you mean Rollout (argoproj.io/v1alpha1`},
		{"Widget", rollout, `unknown kind "Widget" (not a built-in Kubernetes kind; declare a custom resource's kind in spec.customKinds)`},
		{"Rollout", nil, `unknown kind "Rollout" (not a built-in Kubernetes kind; declare a custom resource's kind in spec.customKinds)`},
		{"example.com/v1/Widget", nil, `unknown kind "example.com/v1/Widget" (a kind is named alone`},
	}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			got := Check(tc.kind, tc.custom)
			if tc.want == "" {
				if got != "" {
					t.Fatalf("Check(%q) = %q, want valid", tc.kind, got)
				}
				return
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("Check(%q) = %q, want it to contain %q", tc.kind, got, tc.want)
			}
		})
	}
}

// The hand-kept tables name only kinds the scheme knows.
func TestTablesNameKnownKinds(t *testing.T) {
	for k := range clusterScoped {
		if !Builtin(k) {
			t.Errorf("clusterScoped names %q, which client-go's scheme does not know", k)
		}
	}
	for name, s := range subresources {
		if !Builtin(s.Kind) {
			t.Errorf("subresource %s names kind %q, which the scheme does not know", name, s.Kind)
		}
	}
	for _, k := range []string{"List", "PodList", "WatchEvent", "DeleteOptions"} {
		if Builtin(k) {
			t.Errorf("%s is not an admitted kind", k)
		}
	}
}

func TestBuiltinIn(t *testing.T) {
	cases := []struct {
		group, kind string
		want        bool
	}{
		{"", "Pod", true},
		{"apps", "Deployment", true},
		{"extensions", "Pod", false},
		{"batch", "CronJob", true},
		{"argoproj.io", "Rollout", false},
		{"networking.k8s.io", "Ingress", true},
	}
	for _, tc := range cases {
		if got := BuiltinIn(tc.group, tc.kind); got != tc.want {
			t.Errorf("BuiltinIn(%q, %q) = %v, want %v", tc.group, tc.kind, got, tc.want)
		}
	}
}
