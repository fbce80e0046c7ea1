package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWebhookConfig: the rules come from the bundle, and failure policy
// Ignore needs --i-understand-fail-open, with the reason given when refused.
func TestWebhookConfig(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, "", "webhook", "certs", "--out", dir); code != 0 {
		t.Fatalf("certs: %s", stderr)
	}
	ca := filepath.Join(dir, "ca.crt")
	const ops = "../../webhook/testdata/operations.yaml"
	code, out, stderr := run(t, "", "webhook", "config", "--ca", ca, "--charter", ops)
	if code != 0 {
		t.Fatalf("config: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"- pods/exec", "- CONNECT", "- configmaps", "- DELETE", "- pods/status", "failurePolicy: Fail"} {
		if !strings.Contains(out, want) {
			t.Errorf("config has no %q:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--charter", ops, "--failure-policy", "Ignore"}, 2, "admits, unchecked, every request the webhook does not answer"},
		{[]string{"--charter", ops, "--failure-policy", "Ignore"}, 2, "pass --i-understand-fail-open"},
		{[]string{"--charter", ops, "--failure-policy", "Ignore", "--i-understand-fail-open"}, 0, ""},
		{nil, 2, "give exactly one of --charter or --bundle"},
	} {
		code, out, stderr := run(t, "", append([]string{"webhook", "config", "--ca", ca}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.stderr)
		}
		if tc.code == 0 && !strings.Contains(out, "failurePolicy: Ignore") {
			t.Errorf("%v: %s", tc.args, out)
		}
	}
}
