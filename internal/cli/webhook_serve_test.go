package cli

import (
	"strings"
	"testing"

	"github.com/charter-dev/charter/webhook"
)

func TestDecodeMemoryFlag(t *testing.T) {
	cmd := newWebhookServeCommand()
	def := cmd.Flags().Lookup("decode-memory").DefValue
	if got, err := parseDecodeMemory(def); err != nil || got != webhook.DefaultDecodeMemory {
		t.Errorf("default --decode-memory %q = %d, %v; want DefaultDecodeMemory %d", def, got, err, webhook.DefaultDecodeMemory)
	}
	for _, tc := range []struct {
		in   string
		want int64
	}{{"320Mi", 320 << 20}, {"1G", 1e9}, {"1048576", 1 << 20}} {
		if got, err := parseDecodeMemory(tc.in); err != nil || got != tc.want {
			t.Errorf("--decode-memory %s = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"0", "-1Mi", "lots", ""} {
		code, _, stderr := run(t, "", "webhook", "serve", "--bundle", "b", "--tls-cert", "c", "--tls-key", "k", "--decode-memory", bad)
		if code != 2 || !strings.Contains(stderr, "want a positive size such as 320Mi") {
			t.Errorf("--decode-memory %q: exit %d, stderr %q; want 2 and the reason", bad, code, stderr)
		}
	}
}
