package webhook

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/compiler"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

func infoOf(t *testing.T, path string) compiler.Info {
	t.Helper()
	b, _, err := bundles.FromCharters([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	return b.Info
}

func TestConfigYAML(t *testing.T) {
	out, err := ConfigYAML(ConfigOptions{Service: "charter-webhook", Namespace: "charter", CABundle: []byte("PEM"),
		Rules: RulesFor(infoOf(t, "../policies/anti-delos.yaml"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kind: ValidatingWebhookConfiguration", "name: " + WebhookName, "name: " + StatusWebhookName, "caBundle: UEVN",
		"failurePolicy: Fail", "timeoutSeconds: 3", "sideEffects: None", "- v1", "path: /validate", "port: 443",
		"key: kubernetes.io/metadata.name", "operator: NotIn", "- kube-system", "- kube-node-lease", "- charter",
		"name: metadata-changed", "- pods/status", "- pods/ephemeralcontainers",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("config has no %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "objectSelector") {
		t.Error("config exempts objects by label")
	}
}

func TestConfigErrors(t *testing.T) {
	rules := Rules{Main: RulesFor(infoOf(t, "testdata/charter.yaml")).Main}
	for name, tc := range map[string]struct {
		o   ConfigOptions
		msg string
	}{
		"no caBundle":           {ConfigOptions{Service: "s", Namespace: "n", Rules: rules}, "caBundle is required"},
		"no service nor url":    {ConfigOptions{CABundle: []byte("x"), Rules: rules}, "a service and namespace, or a URL"},
		"bad policy":            {ConfigOptions{URL: "https://127.0.0.1:8443/validate", CABundle: []byte("x"), FailurePolicy: "Maybe", Rules: rules}, `"Maybe" is not Fail or Ignore`},
		"no rules":              {ConfigOptions{URL: "https://127.0.0.1:8443/validate", CABundle: []byte("x")}, "no rules"},
		"Ignore without saying": {ConfigOptions{URL: "https://127.0.0.1:8443/validate", CABundle: []byte("x"), FailurePolicy: "Ignore", Rules: rules}, "--i-understand-fail-open"},
	} {
		_, err := Config(tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.msg)
		}
	}
	_, err := Config(ConfigOptions{URL: "https://x/validate", CABundle: []byte("x"), FailurePolicy: "Ignore", Rules: rules})
	for _, why := range []string{"admits, unchecked", "down", "slower than timeoutSeconds", "cannot read"} {
		if !strings.Contains(err.Error(), why) {
			t.Errorf("the refusal of Ignore does not say why (%q): %v", why, err)
		}
	}
	c, err := Config(ConfigOptions{URL: "https://127.0.0.1:8443/validate", CABundle: []byte("x"), FailurePolicy: "Ignore", AcceptFailOpen: true, Rules: rules})
	if err != nil || *c.Webhooks[0].ClientConfig.URL != "https://127.0.0.1:8443/validate" || string(*c.Webhooks[0].FailurePolicy) != "Ignore" {
		t.Errorf("URL config = %+v, %v", c, err)
	}
}

// flat lists rules as "group|resource|OPS" lines.
func flat(rules []admissionregistrationv1.RuleWithOperations) map[string]bool {
	out := map[string]bool{}
	for _, r := range rules {
		var ops []string
		for _, op := range r.Operations {
			ops = append(ops, string(op))
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				out[g+"|"+res+"|"+strings.Join(ops, ",")] = true
			}
		}
	}
	return out
}

// TestRulesFor: the rules send exactly the kinds, operations and
// subresources the bundle's articles name.
func TestRulesFor(t *testing.T) {
	r := RulesFor(infoOf(t, "testdata/operations.yaml"))
	main, status := flat(r.Main), flat(r.Status)
	for _, want := range []string{
		"|pods|CREATE,UPDATE", "apps|deployments|CREATE,UPDATE", "batch|cronjobs|CREATE,UPDATE", "|podtemplates|CREATE,UPDATE",
		"|pods/ephemeralcontainers|UPDATE", "|pods/resize|UPDATE",
		"|configmaps|CREATE,DELETE,UPDATE", // OP-003 (DELETE) and OP-005 (CREATE, UPDATE)
		"|pods/exec|CONNECT",
	} {
		if !main[want] {
			t.Errorf("main rules have no %s: %v", want, main)
		}
	}
	for _, want := range []string{"|pods/status|UPDATE", "apps|deployments/status|UPDATE", "|configmaps/status|UPDATE"} {
		if !status[want] {
			t.Errorf("status rules have no %s: %v", want, status)
		}
	}
	if len(main) != 13 || len(status) != 10 {
		t.Errorf("got %d main and %d status rules, want 13 and 10:\n%v\n%v", len(main), len(status), main, status)
	}

	custom := RulesFor(compiler.Info{Articles: map[string]compiler.ArticleInfo{
		"a": {Kinds: []string{"Rollout"}, Operations: []string{"*"}},
		"b": {Kinds: []string{"Eviction"}, Operations: []string{"CREATE"}},
		"c": {Kinds: []string{"Pod"}, Runtime: true}, // runtime only: no operations
	}})
	got := flat(custom.Main)
	for _, want := range []string{"*|rollouts|CREATE,UPDATE", "|pods/eviction|CREATE"} {
		if !got[want] {
			t.Errorf("custom rules have no %s: %v", want, got)
		}
	}
	if len(got) != 2 || !flat(custom.Status)["*|rollouts/status|UPDATE"] {
		t.Errorf("custom rules = %v, status %v", got, flat(custom.Status))
	}
}

// TestDeployedConfigIsDerived: deploy/'s ValidatingWebhookConfiguration is
// what `charter webhook config --charter policies/anti-delos.yaml` prints.
func TestDeployedConfigIsDerived(t *testing.T) {
	raw, err := os.ReadFile("../deploy/webhook/validatingwebhookconfiguration.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var deployed admissionregistrationv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict(raw, &deployed); err != nil {
		t.Fatal(err)
	}
	derived, err := Config(ConfigOptions{Service: "charter-webhook", Namespace: "charter-system", CABundle: []byte("x"),
		Rules: RulesFor(infoOf(t, "../policies/anti-delos.yaml"))})
	if err != nil {
		t.Fatal(err)
	}
	for i := range derived.Webhooks {
		derived.Webhooks[i].ClientConfig.CABundle = nil
	}
	for i := range deployed.Webhooks {
		deployed.Webhooks[i].ClientConfig.CABundle = nil
	}
	if !reflect.DeepEqual(deployed.Webhooks, derived.Webhooks) {
		want, _ := yaml.Marshal(derived.Webhooks)
		t.Errorf("deploy/webhook/validatingwebhookconfiguration.yaml is not what webhook config derives; want webhooks:\n%s", want)
	}
}
