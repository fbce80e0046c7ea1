package cli

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/charter-dev/charter/version"
)

func TestVersionCommand(t *testing.T) {
	code, out, stderr := run(t, "", "version", "-o", "json")
	if code != 0 {
		t.Fatalf("charter version -o json: exit %d: %s", code, stderr)
	}
	var got version.Info
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("charter version -o json is not an Info: %v\n%s", err, out)
	}
	// A test binary records no module dependencies: Kubernetes may say unknown here.
	if got != version.Get() || got.GoVersion != runtime.Version() || got.OPA != "v1.22.3" || got.Kubernetes == "" {
		t.Errorf("charter version -o json = %+v, want %+v", got, version.Get())
	}
	code, out, _ = run(t, "", "version")
	for _, want := range []string{"version:", "commit:", "go:         " + runtime.Version(), "opa:        v1.22.3", "kubernetes:", "platform:"} {
		if code != 0 || !strings.Contains(out, want+"\n") && !strings.Contains(out, want+" ") {
			t.Errorf("charter version: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	if code, _, stderr := run(t, "", "version", "-o", "yaml"); code != 2 || !strings.Contains(stderr, "want text or json") {
		t.Errorf("charter version -o yaml: exit %d, stderr %q; want 2 and the choices", code, stderr)
	}
}
