package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWebhookServeOverrideFlags: a kubeconfig that does not load, for
// --override-objects, is bad input (exit 2) named as such, before anything
// is served.
func TestWebhookServeOverrideFlags(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(bad, []byte("not: [a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	code, _, stderr := run(t, "", "webhook", "serve", "--bundle", "b", "--tls-cert", "c", "--tls-key", "k",
		"--override-objects", "--kubeconfig", bad)
	if code != 2 || !strings.Contains(stderr, "--override-objects: cluster client:") {
		t.Errorf("exit %d, stderr %q; want 2 naming --override-objects", code, stderr)
	}
}
