package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-dev/charter/agent"
	"github.com/charter-dev/charter/audit"
	"github.com/prometheus/client_golang/prometheus"
)

type memAudit struct {
	mu  sync.Mutex
	buf bytes.Buffer
	j   *audit.JSONLines
}

func (m *memAudit) Append(ctx context.Context, e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.j == nil {
		m.j = audit.NewJSONLines(&m.buf)
	}
	return m.j.Append(ctx, e)
}

func (m *memAudit) records() []agent.AuditRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []agent.AuditRecord
	for _, line := range strings.Split(strings.TrimSpace(m.buf.String()), "\n") {
		var r agent.AuditRecord
		if json.Unmarshal([]byte(line), &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

func writeCharter(t *testing.T, path, denied string) {
	t.Helper()
	doc := fmt.Sprintf(`apiVersion: charter.dev/v1
kind: Charter
metadata: {name: test, version: 1.0.0}
spec:
  articles:
  - id: AD-020
    title: No unexpected binaries
    severity: high
    runtime:
      exec: {deny: [%s]}
      action: deny
`, denied)
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAgentFromCharter runs the whole agent: charter file → maps, a kill,
// the audit record with the cgroup, metrics, then a charter change picked up
// by Reload without detaching.
func TestAgentFromCharter(t *testing.T) {
	requireKernel(t)
	root := rootCgroup(t)
	cg := newCgroup(t, root)
	dir := t.TempDir()
	a1 := copyBinary(t, dir, "first")
	a2 := copyBinary(t, dir, "second")
	file := filepath.Join(dir, "charter.yaml")
	writeCharter(t, file, a1)

	sink := &memAudit{}
	reg := prometheus.NewRegistry()
	ag, err := agent.New(agent.Options{
		Source:      agent.CharterSource{Paths: []string{file}},
		Cgroups:     []string{strings.TrimPrefix(cg.path, root+"/")}, // relative to the mount
		Mode:        agent.ModeEnforce,
		Auditor:     sink,
		Registry:    reg,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		ReloadEvery: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	logHookPath(t, ag.Hook())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ag.Run(ctx) }()

	if got := outcomeOf(t, cg.command(a1, filepath.Join(dir, "x"))); got != denied(ag.Hook()) {
		t.Fatalf("first: %s, want %s", got, denied(ag.Hook()))
	}
	writeCharter(t, file, a2)
	if err := ag.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := outcomeOf(t, cg.command(a1, filepath.Join(dir, "y"))); got != ran {
		t.Fatalf("first after reload: %s, want a normal run", got)
	}
	if got := outcomeOf(t, cg.command(a2, filepath.Join(dir, "z"))); got != denied(ag.Hook()) {
		t.Fatalf("second after reload: %s, want %s", got, denied(ag.Hook()))
	}

	// Wait (bounded) for both decisions to reach the audit log.
	var recs []agent.AuditRecord
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if recs = sink.records(); len(recs) >= 2 {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(recs) != 2 {
		t.Fatalf("audit records: %d, want 2: %+v", len(recs), recs)
	}
	for i, want := range []string{a1, a2} {
		r := recs[i]
		t.Logf("audit: article=%s verdict=%s hook=%s path=%s cgroup=%s", r.Article, r.Verdict, r.Hook, r.Path, r.Cgroup)
		if r.Article != "AD-020" || r.Verdict != "denied" || r.Path != want || r.Cgroup != strings.TrimPrefix(cg.path, root) {
			t.Errorf("audit record %d = %+v", i, r)
		}
		// The engine decided the same event: article, action and message.
		t.Logf("engine: action=%s findings=%v message=%q", r.Action, r.Findings, r.Message)
		if r.Action != "deny" || len(r.Findings) != 1 || !strings.Contains(r.Message, "exec of "+want+" is denied") {
			t.Errorf("audit record %d lacks the engine decision: %+v", i, r)
		}
	}
	if got := counterSum(t, reg, "charter_agent_denials_total"); got != 2 {
		t.Errorf("charter_agent_denials_total = %v, want 2", got)
	}
	if got := counterSum(t, reg, "charter_agent_lost_events_total"); got != 0 {
		t.Errorf("charter_agent_lost_events_total = %v, want 0", got)
	}
}

// counterSum sums a counter family over its labels.
func counterSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// TestAgentAntiDelosRuntime runs the agent on the shipped anti-delos charter:
// a hard link to bash and a memfd are killed, a UDP datagram to the metadata
// endpoint is refused, and the engine confirms each kernel decision (article,
// action, message) in the audit record.
func TestAgentAntiDelosRuntime(t *testing.T) {
	requireKernel(t)
	root := rootCgroup(t)
	cg := newCgroup(t, root)
	dir := t.TempDir()
	hardlink := linkNear(t, "/usr/bin/bash", "innocent")
	audit := &memAudit{}
	ag, err := agent.New(agent.Options{
		Source:      agent.CharterSource{Paths: []string{"../../policies/anti-delos.yaml"}},
		Cgroups:     []string{cg.path},
		Mode:        agent.ModeEnforce,
		Auditor:     audit,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		ReloadEvery: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	logHookPath(t, ag.Hook())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ag.Run(ctx) }()

	out := filepath.Join(dir, "out")
	if got := outcomeOf(t, cg.command(hardlink, "-c", bashTouch, out)); got != denied(ag.Hook()) || exists(out) {
		t.Errorf("hard link to bash: %s, want %s", got, denied(ag.Hook()))
	}
	if got := outcomeOf(t, helperCmd(cg, "memfd-exec", "/usr/bin/touch", out)); got != denied(ag.Hook()) || exists(out) {
		t.Errorf("memfd: %s, want %s", got, denied(ag.Hook()))
	}
	if got := outcomeOf(t, helperCmd(cg, "udp-send", "4", "169.254.169.254", "80")); got != refused {
		t.Errorf("UDP to the metadata endpoint: %s, want %s", got, refused)
	}
	var recs []agent.AuditRecord
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if recs = audit.records(); len(recs) >= 3 {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []struct{ article, match, message string }{
		{"AD-017", "identity", "the same file (device and inode)"},
		{"AD-017", "fileless", "exec of memfd:payload is denied by runtime.exec.denyFileless"},
		{"AD-018", "listed", "connect to 169.254.169.254 port 80"},
	}
	if len(recs) != len(want) {
		t.Fatalf("audit records: %d, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		r := recs[i]
		t.Logf("audit: article=%s verdict=%s hook=%s match=%s identity=%s path=%s dest=%s action=%s message=%q", r.Article, r.Verdict, r.Hook, r.Match, r.Identity, r.Path, r.Dest, r.Action, r.Message)
		if r.Article != w.article || r.Match != w.match || r.Verdict != "denied" || r.Action != "deny" || !strings.Contains(r.Message, w.message) {
			t.Errorf("audit record %d = %+v, want %s denied with the engine's %q", i, r, w.article, w.message)
		}
	}
}
