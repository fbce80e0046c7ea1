package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
)

// The articles the charter-agent exception lifts, and how each then decides
// the agent (AD-015 only warns).
var lifted = map[string]string{"AD-005": "deny", "AD-006": "deny", "AD-007": "deny", "AD-008": "deny", "AD-015": "warn"}

// engines compiles c and returns its native engine and the OPA-only one, so
// that every decision below is checked in both (CI and conftest agree).
func engines(t *testing.T, c *charter.Charter) []*engine.Engine {
	t.Helper()
	out, err := compiler.Compile(c)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	b, err := bundles.Compile(out)
	if err != nil {
		t.Fatal(err)
	}
	var es []*engine.Engine
	for _, opts := range [][]engine.Option{nil, {engine.OPAOnly()}} {
		e, err := engine.New(context.Background(), b, opts...)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

// findings decides obj with each engine and returns its findings as sorted
// "article action" lines, failing when the engines disagree.
func findings(t *testing.T, es []*engine.Engine, obj map[string]any) []string {
	t.Helper()
	var first []string
	for i, e := range es {
		d, err := e.Decide(context.Background(), obj)
		if err != nil {
			t.Fatal(err)
		}
		set := map[string]bool{}
		for _, f := range d.All() {
			set[f.Article+" "+f.Action] = true
		}
		got := slices.Sorted(maps.Keys(set))
		if i == 0 {
			first = got
		} else if !slices.Equal(got, first) {
			t.Errorf("native engine finds %v, OPA %v", first, got)
		}
	}
	return first
}

func liftedFindings(ids ...string) []string {
	if len(ids) == 0 {
		ids = slices.Collect(maps.Keys(lifted))
	}
	var out []string
	for _, id := range ids {
		out = append(out, id+" "+lifted[id])
	}
	slices.Sort(out)
	return out
}

// isException reports whether c is the charter-agent exception block: an
// all whose first leaf requires the namespace charter-system.
func isException(c *charter.Condition) bool {
	if c == nil || len(c.All) == 0 || c.All[0].Leaf == nil {
		return false
	}
	l := c.All[0].Leaf
	return l.Path.String() == "request.namespace" && l.Op == "equals" && l.Value == "charter-system"
}

func contains(c *charter.Condition, match func(*charter.Condition) bool) bool {
	if c == nil {
		return false
	}
	if match(c) {
		return true
	}
	for _, sub := range append(slices.Clone(c.All), c.Any...) {
		if contains(sub, match) {
			return true
		}
	}
	return contains(c.Not, match)
}

// describe renders a condition tree for comparison.
func describe(c *charter.Condition) string {
	var parts []string
	switch {
	case c.Leaf != nil:
		return fmt.Sprintf("{%s %s %v}", c.Leaf.Path, c.Leaf.Op, c.Leaf.Value)
	case c.Not != nil:
		return "not " + describe(c.Not)
	case c.All != nil:
		for _, s := range c.All {
			parts = append(parts, describe(s))
		}
		return "all[" + strings.Join(parts, " ") + "]"
	default:
		for _, s := range c.Any {
			parts = append(parts, describe(s))
		}
		return "any[" + strings.Join(parts, " ") + "]"
	}
}

// stripException removes from c every `not` under an `all` that holds the
// exception block, returning the blocks it removed.
func stripException(c *charter.Condition) []string {
	if c == nil {
		return nil
	}
	var removed []string
	var kept []*charter.Condition
	for _, sub := range c.All {
		if sub.Not != nil && contains(sub.Not, isException) {
			var walk func(*charter.Condition)
			walk = func(x *charter.Condition) {
				if isException(x) {
					removed = append(removed, describe(x))
					return
				}
				for _, s := range append(slices.Clone(x.All), x.Any...) {
					walk(s)
				}
				if x.Not != nil {
					walk(x.Not)
				}
			}
			walk(sub.Not)
			continue
		}
		kept = append(kept, sub)
	}
	if c.All != nil {
		c.All = kept
	}
	for _, sub := range append(slices.Clone(c.All), c.Any...) {
		removed = append(removed, stripException(sub)...)
	}
	return append(removed, stripException(c.Not)...)
}

func agentDaemonSet(t *testing.T) map[string]any {
	t.Helper()
	for _, d := range parse(t, render(t)) {
		if d.Kind() == "DaemonSet" && d.Name() == "charter-agent" {
			return d.Object
		}
	}
	t.Fatal("deploy/ renders no DaemonSet charter-agent")
	return nil
}

func deepCopy(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWithoutTheExceptionTheAgentIsDenied: the exception is one block,
// identical in each article it lifts, and in no other; with it removed the
// rendered agent DaemonSet is denied by exactly those articles (in the native
// engine and in OPA) while every other object of deploy/ still passes.
func TestWithoutTheExceptionTheAgentIsDenied(t *testing.T) {
	c, err := charter.Load(antiDelos)
	if err != nil {
		t.Fatal(err)
	}
	var strippedFrom []string
	var blocks []string
	for _, a := range c.Spec.Articles {
		removed := stripException(a.Violation)
		if len(removed) == 0 {
			continue
		}
		strippedFrom = append(strippedFrom, a.ID)
		blocks = append(blocks, removed...)
	}
	if want := slices.Sorted(maps.Keys(lifted)); !slices.Equal(strippedFrom, want) {
		t.Fatalf("the charter-agent exception is in %v, want exactly %v", strippedFrom, want)
	}
	for i, b := range blocks {
		if b != blocks[0] {
			t.Errorf("exception block %d differs from the first:\n%s\n%s", i, b, blocks[0])
		}
	}
	for _, want := range []string{"request.namespace equals charter-system", "object.kind in [DaemonSet Pod]",
		"object.metadata.name equals charter-agent", "object.metadata.generateName equals charter-agent-",
		`pod.metadata.labels["app.kubernetes.io/name"] equals charter-agent`, "pod.spec.serviceAccountName equals charter-agent"} {
		if !strings.Contains(blocks[0], "{"+want+"}") {
			t.Errorf("the exception does not require %s: %s", want, blocks[0])
		}
	}

	es := engines(t, c)
	agents := 0
	for _, d := range parse(t, render(t)) {
		got := findings(t, es, d.Object)
		var want []string
		if d.Kind() == "DaemonSet" && d.Name() == "charter-agent" {
			agents++
			want = liftedFindings()
		}
		if !slices.Equal(got, want) {
			t.Errorf("without the exception, %s %s: findings %v, want %v", d.Kind(), d.Name(), got, want)
		}
	}
	if agents != 1 {
		t.Errorf("found %d agent DaemonSets in deploy/, want 1", agents)
	}
}

// TestAgentExceptionScope: the exception admits the rendered agent and the
// pods its DaemonSet creates, and nothing that differs from them in
// namespace, name, kind, label or service account; and it lifts only what the
// agent needs (its six host paths, hostPID, its own container).
func TestAgentExceptionScope(t *testing.T) {
	c, err := charter.Load(antiDelos)
	if err != nil {
		t.Fatal(err)
	}
	es := engines(t, c)
	agent := agentDaemonSet(t)
	meta := func(o map[string]any) map[string]any { return o["metadata"].(map[string]any) }
	tmpl := func(o map[string]any) map[string]any { return o["spec"].(map[string]any)["template"].(map[string]any) }
	podSpec := func(o map[string]any) map[string]any { return tmpl(o)["spec"].(map[string]any) }
	// asPod is the pod the DaemonSet controller creates from the template.
	asPod := func(o map[string]any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "charter-agent-x7k2p", "generateName": "charter-agent-", "namespace": "charter-system",
				"labels":          meta(tmpl(o))["labels"],
				"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "charter-agent", "controller": true}}},
			"spec": podSpec(o)}
	}
	for _, tc := range []struct {
		name   string
		mutate func(o map[string]any) map[string]any
		want   []string
	}{
		{"as deploy/ renders it", func(o map[string]any) map[string]any { return o }, nil},
		{"its pod, as the DaemonSet controller creates it", asPod, nil},
		{"its pod in namespace default", func(o map[string]any) map[string]any {
			p := asPod(o)
			meta(p)["namespace"] = "default"
			return p
		}, liftedFindings()},
		{"in another namespace", func(o map[string]any) map[string]any { meta(o)["namespace"] = "ops"; return o }, liftedFindings()},
		{"another name in charter-system", func(o map[string]any) map[string]any { meta(o)["name"] = "charter-agent-debug"; return o }, liftedFindings()},
		{"another app.kubernetes.io/name on the pod", func(o map[string]any) map[string]any {
			meta(tmpl(o))["labels"].(map[string]any)["app.kubernetes.io/name"] = "node-debugger"
			return o
		}, liftedFindings()},
		{"another service account", func(o map[string]any) map[string]any { podSpec(o)["serviceAccountName"] = "default"; return o }, liftedFindings()},
		{"a Deployment with the agent's name and template", func(o map[string]any) map[string]any { o["kind"] = "Deployment"; return o }, liftedFindings()},
		{"a host path the agent does not use", func(o map[string]any) map[string]any {
			spec := podSpec(o)
			spec["volumes"] = append(spec["volumes"].([]any), map[string]any{"name": "root", "hostPath": map[string]any{"path": "/"}})
			return o
		}, liftedFindings("AD-005")},
		{"hostNetwork", func(o map[string]any) map[string]any { podSpec(o)["hostNetwork"] = true; return o }, liftedFindings("AD-006")},
		{"hostIPC", func(o map[string]any) map[string]any { podSpec(o)["hostIPC"] = true; return o }, liftedFindings("AD-006")},
		{"a privileged sidecar", func(o map[string]any) map[string]any {
			spec := podSpec(o)
			containers := spec["containers"].([]any)
			sidecar := deepCopy(t, containers[0].(map[string]any))
			sidecar["name"] = "debug"
			spec["containers"] = append(containers, sidecar)
			return o
		}, liftedFindings("AD-007", "AD-008", "AD-015")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := findings(t, es, tc.mutate(deepCopy(t, agent))); !slices.Equal(got, tc.want) {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
		})
	}
}
