package plugin

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name, raw, err string
		poll           time.Duration
		native         bool
	}{
		{"bundle only", `{"bundle": "b.tar.gz"}`, "", 10 * time.Second, true},
		{"everything", `{"bundle": "https://b/x", "keys": ["k.pub"], "state_dir": "s", "poll_interval": "30s", "audit_log": "a", "audit_sync": true, "native_decisions": false, "overrides": "ovs"}`, "", 30 * time.Second, false},
		{"no bundle", `{"keys": ["k.pub"]}`, "plugins.charter.bundle is required", 0, false},
		{"misspelt key field", `{"bundle": "b", "key": "k.pub"}`, `unknown field "key"`, 0, false},
		{"bad poll interval", `{"bundle": "b", "poll_interval": "soon"}`, "poll_interval", 0, false},
		{"negative poll interval", `{"bundle": "b", "poll_interval": "-1s"}`, "positive duration", 0, false},
		{"sync without a log file", `{"bundle": "b", "audit_sync": true, "audit_log": "-"}`, "audit_sync needs audit_log", 0, false},
		{"not an object", `["b"]`, "plugins.charter", 0, false},
		{"trailing data", `{"bundle": "b"} {}`, "data after", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tc.raw))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseConfig = %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.poll != tc.poll || c.Native() != tc.native {
				t.Errorf("poll %v native %v, want %v %v", c.poll, c.Native(), tc.poll, tc.native)
			}
		})
	}
}

func TestBundleNames(t *testing.T) {
	names, err := bundleNames([]byte(`{"authz": {"resource": "x"}, "charter": {}}`))
	if err != nil || len(names) != 2 {
		t.Errorf("bundleNames = %v, %v", names, err)
	}
	if _, err := bundleNames([]byte(`[1]`)); err == nil {
		t.Error("bundleNames accepted a list")
	}
}
