package webhook

import (
	"strings"
	"testing"
)

func TestConfigYAML(t *testing.T) {
	out, err := ConfigYAML(ConfigOptions{Service: "charter-webhook", Namespace: "charter", CABundle: []byte("PEM")})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kind: ValidatingWebhookConfiguration", "name: " + WebhookName, "caBundle: UEVN", "failurePolicy: Fail",
		"timeoutSeconds: 3", "sideEffects: None", "- v1", "path: /validate", "port: 443",
		"key: kubernetes.io/metadata.name", "operator: NotIn", "- kube-system", "- kube-node-lease", "- charter",
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
	for name, o := range map[string]ConfigOptions{
		"no caBundle":        {Service: "s", Namespace: "n"},
		"no service nor url": {CABundle: []byte("x")},
		"bad policy":         {URL: "https://127.0.0.1:8443/validate", CABundle: []byte("x"), FailurePolicy: "Maybe"},
	} {
		if _, err := Config(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	c, err := Config(ConfigOptions{URL: "https://127.0.0.1:8443/validate", CABundle: []byte("x"), FailurePolicy: "Ignore"})
	if err != nil || *c.Webhooks[0].ClientConfig.URL != "https://127.0.0.1:8443/validate" || string(*c.Webhooks[0].FailurePolicy) != "Ignore" {
		t.Errorf("URL config = %+v, %v", c, err)
	}
}
