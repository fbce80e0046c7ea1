package kernel

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/agent"
	"github.com/charter-dev/charter/council"
	"github.com/charter-dev/charter/overrides"
)

const breakGlassCharter = `apiVersion: charter.dev/v1
kind: Charter
metadata: {name: breakglass, version: 1.0.0}
spec:
  council: {threshold: 1, keys: [council.pub]}
  articles:
  - id: AD-020
    title: No shells in production containers
    severity: high
    runtime:
      exec: {deny: [/bin/bash, /usr/bin/bash]}
      action: deny
`

// kubePod makes a pod cgroup in the kubelet's systemd layout under parent
// (kubepods-podUID.slice/cri-containerd-ID.scope) and the kubelet's pod
// log directory naming it, and returns the container's cgroup.
func kubePod(t *testing.T, parent, logs, namespace, name, uid, container string) *cgroup {
	t.Helper()
	podDir := filepath.Join(parent, "kubepods-pod"+strings.ReplaceAll(uid, "-", "_")+".slice")
	if err := os.Mkdir(podDir, 0o755); err != nil {
		t.Fatal(err)
	}
	openCgroup(t, podDir)
	ctrDir := filepath.Join(podDir, "cri-containerd-"+container+".scope")
	if err := os.Mkdir(ctrDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(logs, namespace+"_"+name+"_"+uid), 0o755); err != nil {
		t.Fatal(err)
	}
	return openCgroup(t, ctrDir)
}

// TestBreakGlassShellUnderOverride: a shell is killed in a pod; the council
// (a key in 2-of-3 Shamir custody) signs a runtime override for that pod
// lasting a few seconds; the agent, reloading its overrides directory,
// lets the shell run in that pod only (another pod's shell is still
// killed) and audits it with the override id; when the override expires the
// agent's expiry timer, with no reload and no restart, enforces again.
func TestBreakGlassShellUnderOverride(t *testing.T) {
	requireKernel(t)
	root := rootCgroup(t)
	base := newCgroup(t, root)
	dir := t.TempDir()
	logs := filepath.Join(dir, "pods")
	api := kubePod(t, base.path, logs, "payments", "api-7f9c4-x2x", "0a1b2c3d-0000-1111-2222-333344445555", strings.Repeat("a", 64))
	web := kubePod(t, base.path, logs, "payments", "web-1", "0a1b2c3d-0000-1111-2222-666677778888", strings.Repeat("b", 64))

	custody, err := council.Split(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "council.pub"), custody.PublicKey, 0o644); err != nil {
		t.Fatal(err)
	}
	charterFile := filepath.Join(dir, "charter.yaml")
	if err := os.WriteFile(charterFile, []byte(breakGlassCharter), 0o644); err != nil {
		t.Fatal(err)
	}
	overridesDir := filepath.Join(dir, "overrides")
	if err := os.Mkdir(overridesDir, 0o755); err != nil {
		t.Fatal(err)
	}

	sink := &memAudit{}
	ag, err := agent.New(agent.Options{
		Source:       agent.CharterSource{Paths: []string{charterFile}},
		Cgroups:      []string{base.path},
		Mode:         agent.ModeEnforce,
		Auditor:      sink,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		ReloadEvery:  time.Hour, // the test reloads by hand; expiry must come from the agent's timer
		OverridesDir: overridesDir,
		Pods:         agent.KubeletPodLogs{Dir: logs},
	})
	if err != nil {
		t.Fatal(err)
	}
	logHookPath(t, ag.Hook())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ag.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	shell := func(cg *cgroup, out string) string { return outcomeOf(t, cg.command(bash, "-c", bashTouch, out)) }
	want := denied(ag.Hook())

	if got := shell(api, filepath.Join(dir, "before")); got != want {
		t.Fatalf("shell in api before the override: %s, want %s", got, want)
	}

	// Two custodians' shares rebuild the council key, which signs.
	now := time.Now().UTC()
	expires := now.Add(6 * time.Second)
	doc := &overrides.Document{
		APIVersion: overrides.APIVersion, Kind: overrides.Kind, Metadata: overrides.Metadata{Name: "debug-api"},
		Spec: overrides.Spec{
			Charter: "breakglass", Articles: []string{"AD-020"},
			Scope:  overrides.Scope{Namespace: "payments", Kind: "Pod", Name: "api-*"},
			Reason: "incident 42: inspect the api pod", Requester: "sre@example.com",
			NotBefore: now.Add(-time.Second), Expires: expires,
		},
	}
	key, err := council.Combine([]*council.Share{custody.Shares[0], custody.Shares[2]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := key.Signer()
	if err != nil {
		t.Fatal(err)
	}
	if err := overrides.Sign(doc, sv); err != nil {
		t.Fatal(err)
	}
	key.Wipe()
	data, err := doc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(overridesDir, "debug-api.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	// An under-signed copy for the other pod is ignored.
	unsigned := *doc
	unsigned.Metadata.Name, unsigned.Spec.Scope.Name, unsigned.Signatures = "debug-web", "web-*", nil
	data, _ = unsigned.Marshal()
	os.WriteFile(filepath.Join(overridesDir, "debug-web.yaml"), data, 0o644)
	if err := ag.Reload(); err != nil {
		t.Fatal(err)
	}
	grants := ag.Exemptions()
	if len(grants) != 1 || grants[0].Override != "debug-api" || grants[0].Pod.Name != "api-7f9c4-x2x" {
		t.Fatalf("exemptions after reload: %+v", grants)
	}

	during := filepath.Join(dir, "during")
	if got := shell(api, during); got != ran || !exists(during) {
		t.Fatalf("shell in api under the override: %s, want a normal run", got)
	}
	if got := shell(web, filepath.Join(dir, "web")); got != want {
		t.Fatalf("shell in web (not in the override's scope): %s, want %s", got, want)
	}

	// Expiry: no Reload, no restart; the agent's timer lifts the exemption.
	for time.Now().Before(expires.Add(5 * time.Second)) {
		if len(ag.Exemptions()) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if g := ag.Exemptions(); len(g) != 0 {
		t.Fatalf("exemptions 5s after expiry: %+v", g)
	}
	if time.Now().Before(expires) {
		t.Fatalf("the exemption ended at %s, before the override expired at %s", time.Now().UTC(), expires)
	}
	after := filepath.Join(dir, "after")
	if got := shell(api, after); got != want || exists(after) {
		t.Fatalf("shell in api after expiry: %s, want %s", got, want)
	}

	var recs []agent.AuditRecord
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if recs = sink.records(); len(recs) >= 4 {
			break
		}
	}
	wantRecs := []struct{ verdict, override, pod string }{
		{"denied", "", "api"}, {"exempt", "debug-api", "api"}, {"denied", "", "web"}, {"denied", "", "api"},
	}
	if len(recs) != len(wantRecs) {
		t.Fatalf("audit records: %d, want %d: %+v", len(recs), len(wantRecs), recs)
	}
	for i, w := range wantRecs {
		r := recs[i]
		t.Logf("audit: article=%s verdict=%s decision=%s override=%q pod=%s path=%s", r.Article, r.Verdict, r.Decision, r.Override, r.PodUID, r.Path)
		uid := map[string]string{"api": "0a1b2c3d-0000-1111-2222-333344445555", "web": "0a1b2c3d-0000-1111-2222-666677778888"}[w.pod]
		if r.Article != "AD-020" || r.Verdict != w.verdict || r.Override != w.override || r.PodUID != uid {
			t.Errorf("audit record %d = %+v, want verdict %s override %q", i, r, w.verdict, w.override)
		}
	}
}
