//go:build linux

package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/charter-dev/charter/engine"
)

// TestAgentClusterDataNotNeeded: the agent takes a bundle whose admission
// articles query cluster data, without --data, and enforces its runtime
// rules. Unlike eval, audit scan and diff it must not refuse one: it decides
// only kernel events (data.charter.runtime), which read no cluster data, and
// one signed bundle serves the webhook (with --cluster-data) and the agent.
// This test holds that reading (review finding 3 asked whether the agent
// checks cluster data as eval does: it has nothing to check).
func TestAgentClusterDataNotNeeded(t *testing.T) {
	dir := t.TempDir()
	ch := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(ch, []byte(`apiVersion: charter.dev/v1
kind: Charter
metadata: {name: mixed, version: 1.0.0}
spec:
  defaults: {action: deny, severity: high}
  articles:
  - id: CD-1
    title: namespaces exist
    match: {kinds: [Pod]}
    violation:
      cluster: {kind: Namespace, where: [{path: other.metadata.name, op: in, valuesFrom: object.metadata.namespace}]}
      op: absent
    message: no namespace
  - id: RT-1
    title: no shells
    runtime: {exec: {deny: [/bin/sh]}, action: deny}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := (&loaderOptions{}).ruleSource(context.Background(), policyOptions{Charters: []string{ch}}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("the agent refused a bundle with cluster queries: %v", err)
	}
	rules, err := src.Rules()
	if err != nil || len(rules) != 1 || rules[0].Article != "RT-1" {
		t.Fatalf("rules = %+v, %v; want RT-1 alone", rules, err)
	}
	e, err := src.Engine(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ClusterKinds()) != 1 {
		t.Fatalf("cluster kinds %v: the charter must query cluster data for this test to mean anything", e.ClusterKinds())
	}
	fs, err := e.DecideRuntime(context.Background(), engine.RuntimeEvent{Kind: "exec", Path: "/bin/sh"})
	if err != nil || len(fs) != 1 || fs[0].Article != "RT-1" {
		t.Errorf("exec of /bin/sh: %+v, %v; want RT-1", fs, err)
	}
}
