package webhook

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles/oci"
	"github.com/charter-dev/charter/bundles/oci/ocitest"
	"github.com/charter-dev/charter/bundles/source"
	"github.com/charter-dev/charter/keys/keystest"
)

// pushTag pushes a bundle .tar.gz to the tag, signed in the registry with
// the test key (the loader checks the bundle's own signature).
func pushTag(t *testing.T, reg *ocitest.Registry, repoTag string, tgz []byte) {
	t.Helper()
	n, err := oci.ParseReference(reg.Ref(repoTag), oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oci.Push(context.Background(), n, tgz, keystest.Shared(t), oci.Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestWebhookFromOCIRegistry: a running webhook with --bundle oci://... and
// --verify-key polls a registry on loopback. The tag is moved to a
// tampered, an unsigned, an older and an expired bundle: each is refused
// (its own reason in /metrics) and the good bundle keeps denying a
// privileged pod, checked by AdmissionReview. A newer good bundle goes into
// force; a restart with the registry down comes up ready on the state
// directory.
func TestWebhookFromOCIRegistry(t *testing.T) {
	dir := t.TempDir()
	lax := filepath.Join(dir, "lax.yaml")
	if err := os.WriteFile(lax, []byte(hostNetworkCharter), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := ocitest.Start(t)
	const tag = "charter/policy:stable"
	pushTag(t, reg, tag, releaseBundle(t, "testdata/charter.yaml", 10, "", false))
	state := filepath.Join(dir, "state")
	opts := Options{BundlePath: reg.Ref(tag),
		Loading: Loading{Verify: source.Keys(keystest.Shared(t)), StateDir: state, MaxBackoff: 50 * time.Millisecond}}
	w := startWebhook(t, filepath.Join(dir, "a"), opts)
	if w.allowed(t) {
		t.Fatal("the good bundle does not deny a privileged pod")
	}
	good := w.s.Holder().Current().Revision()

	for _, tc := range []struct {
		name   string
		bundle []byte
		reason string
	}{
		{"tampered", releaseBundle(t, lax, 11, "", true), source.ReasonUnverified},
		{"unsigned", releaseBundle(t, lax, 0, "", false), source.ReasonUnverified},
		{"older", releaseBundle(t, lax, 9, "", false), source.ReasonRollback},
		{"expired", releaseBundle(t, lax, 12, "2020-01-01T00:00:00Z", false), source.ReasonExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pushTag(t, reg, tag, tc.bundle)
			metric := `charter_bundle_rejections_total{reason="` + tc.reason + `"} `
			want := 1
			if tc.name == "unsigned" {
				want = 2 // the tampered one was the first
			}
			eventually(t, "the "+tc.name+" bundle is refused", func() bool {
				_, m := w.get(t, "/metrics")
				return strings.Contains(m, metric+strconv.Itoa(want))
			})
			if w.allowed(t) {
				t.Errorf("after the %s bundle a privileged pod is allowed", tc.name)
			}
			if rev := w.s.Holder().Current().Revision(); rev != good {
				t.Errorf("active revision %s, want the good %s", rev, good)
			}
		})
	}

	pushTag(t, reg, tag, releaseBundle(t, lax, 13, "", false))
	eventually(t, "a newer good bundle goes into force", func() bool { return w.allowed(t) })
	newer := w.s.Holder().Current().Revision()
	if err := w.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}

	reg.Close()
	restarted := startWebhook(t, filepath.Join(dir, "b"), opts)
	if code, body := restarted.get(t, "/readyz"); code != 200 || !strings.Contains(body, newer) {
		t.Fatalf("after a restart with the registry down: /readyz = %d %q, want ready on %s", code, body, newer)
	}
	if !restarted.allowed(t) {
		t.Error("the restarted webhook does not enforce the persisted bundle")
	}
}
