package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const diffOld = `apiVersion: charter.dev/v1
kind: Charter
metadata: {name: shop, version: 1.0.0}
spec:
  defaults: {action: deny, severity: high}
  articles:
  - id: P-1
    title: No privileged
    match: {kinds: [Pod]}
    foreach: containers
    violation: {any: [{path: container.securityContext.privileged, op: equals, value: true}]}
    message: "container {{container.name}} is privileged"
  - id: P-2
    title: No NodePort
    match: {kinds: [Service]}
    violation: {any: [{path: object.spec.type, op: equals, value: NodePort}]}
    message: "service is NodePort"
  - id: P-3
    title: Pin images
    action: warn
    match: {kinds: [Pod]}
    foreach: containers
    violation: {any: [{path: container.image, op: suffix, value: ":latest"}]}
    message: "image is latest"
`

// diffNew keeps P-1, drops P-2 (NodePort becomes allowed), rewords P-3 and
// adds P-4 (hostNetwork becomes denied).
const diffNew = `apiVersion: charter.dev/v1
kind: Charter
metadata: {name: shop, version: 2.0.0}
spec:
  defaults: {action: deny, severity: high}
  articles:
  - id: P-1
    title: No privileged
    match: {kinds: [Pod]}
    foreach: containers
    violation: {any: [{path: container.securityContext.privileged, op: equals, value: true}]}
    message: "container {{container.name}} is privileged"
  - id: P-3
    title: Pin images
    action: warn
    match: {kinds: [Pod]}
    foreach: containers
    violation: {any: [{path: container.image, op: suffix, value: ":latest"}]}
    message: "container {{container.name}} runs a :latest image; pin a tag"
  - id: P-4
    title: No host network
    severity: critical
    match: {kinds: [Pod]}
    violation: {any: [{path: pod.spec.hostNetwork, op: equals, value: true}]}
    message: "the pod shares the host network"
`

const diffObjects = `apiVersion: v1
kind: Pod
metadata: {name: priv, namespace: a}
spec: {containers: [{name: c, image: x:1, securityContext: {privileged: true}}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hostnet, namespace: a}
spec:
  template:
    spec:
      hostNetwork: true
      containers: [{name: c, image: x:1}]
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: b}
spec: {type: NodePort}
---
apiVersion: v1
kind: Pod
metadata: {name: latest, namespace: b}
spec: {containers: [{name: c, image: "x:latest"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: fine, namespace: b}
spec: {containers: [{name: c, image: x:1}]}
`

// TestDiff: charter diff lists exactly the objects whose verdict or
// findings change (newly denied, newly allowed, reworded), with counts per
// article, exits 1 because something becomes denied, and 0 the other way
// round when nothing does.
func TestDiff(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldC, newC, objs := write("old.yaml", diffOld), write("new.yaml", diffNew), write("objects.yaml", diffObjects)

	code, out, errOut := run(t, "", "diff", "--old", oldC, "--new", newC, objs)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	for _, want := range []string{
		"impact of shop 1.0.0 -> shop 2.0.0 on 5 objects",
		"NEWLY DENIED Deployment a/hostnet", "+ deny  P-4      the pod shares the host network (at spec.template.spec.hostNetwork)",
		"NEWLY ALLOWED Service b/np", "- deny  P-2      service is NodePort",
		"CHANGED Pod b/latest", "+ warn  P-3      container c runs a :latest image; pin a tag", "- warn  P-3      image is latest",
		"3 changed of 5 objects: 1 newly denied, 1 newly allowed, 1 with changed findings",
		"P-4      +1 -0 findings, 1 objects newly denied",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	for _, unchanged := range []string{"priv", "fine"} {
		if strings.Contains(out, "/"+unchanged+" ") {
			t.Errorf("unchanged object %s listed:\n%s", unchanged, out)
		}
	}

	code, out, _ = run(t, diffObjects, "diff", "--old", oldC, "--new", newC, "-o", "json", "-")
	var doc struct {
		Objects  int
		Counts   map[string]int
		Articles []struct {
			Article                     string
			Added, Removed, NewlyDenied int
		}
		Changes []struct {
			Kind, Name, Change     string
			OldAllowed, NewAllowed bool
			Added, Removed         []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 1 {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if doc.Objects != 5 || len(doc.Changes) != 3 || doc.Counts["newly denied"] != 1 || doc.Counts["newly allowed"] != 1 || doc.Counts["findings changed"] != 1 {
		t.Errorf("json = %+v", doc)
	}
	if c := doc.Changes[0]; c.Name != "hostnet" || !c.OldAllowed || c.NewAllowed || len(c.Added) != 1 || c.Added[0]["path"] != "spec.template.spec.hostNetwork" {
		t.Errorf("first change = %+v", c)
	}
	arts := map[string]string{}
	for _, a := range doc.Articles {
		arts[a.Article] = fmt.Sprintf("%d/%d/%d", a.Added, a.Removed, a.NewlyDenied)
	}
	if arts["P-2"] != "0/1/0" || arts["P-3"] != "1/1/0" || arts["P-4"] != "1/0/1" || len(arts) != 3 {
		t.Errorf("per article = %v", arts)
	}

	// A policy that only relaxes (P-2 dropped) denies nothing new: exit 0.
	relaxed := write("relaxed.yaml", diffOld[:strings.Index(diffOld, "  - id: P-2")]+diffOld[strings.Index(diffOld, "  - id: P-3"):])
	code, out, _ = run(t, "", "diff", "--old", oldC, "--new", relaxed, objs)
	if code != 0 || !strings.Contains(out, "NEWLY ALLOWED Service b/np") || !strings.Contains(out, "1 changed of 5 objects: 0 newly denied, 1 newly allowed") {
		t.Errorf("relaxing diff: exit %d\n%s", code, out)
	}
	// Same policy: nothing changes.
	code, out, _ = run(t, "", "diff", "--old", oldC, "--new", oldC, objs)
	if code != 0 || !strings.Contains(out, "0 changed of 5 objects") {
		t.Errorf("same policy: exit %d\n%s", code, out)
	}
}

// TestDiffBadInput: missing sides, unreadable policies and mixed inputs are
// bad input, naming the flag.
func TestDiffBadInput(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "old.yaml")
	if err := os.WriteFile(p, []byte(diffOld), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"diff", "--new", p, p}, "give both --old and --new"},
		{[]string{"diff", "--old", p, "--new", filepath.Join(dir, "none.yaml"), p}, "--new " + filepath.Join(dir, "none.yaml")},
		{[]string{"diff", "--old", p, "--new", p, "--kubeconfig", p, p}, "not both"},
		{[]string{"diff", "--old", p, "--new", p, "-o", "sarif", p}, `unknown output "sarif"`},
	} {
		code, _, errOut := run(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%v: exit %d, stderr %s, want 2 and %q", tc.args, code, errOut, tc.stderr)
		}
	}
}

// TestDiffClusterData: charter diff of manifests refuses, as eval does, a
// policy on either side whose articles query cluster data unless --data
// gives the objects or --empty-cluster says there are none (review
// finding: the queries were decided against an empty cluster without a
// word, so an exists query never fired); a live diff reads the cluster
// itself and takes neither flag.
func TestDiffClusterData(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clusterCharter := "../../examples/charters/cluster-data.yaml"
	plainCharter := "../../examples/charters/container-limits.yaml"
	pvc := write("pvc.yaml", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: shop}\nspec: {storageClassName: fast}\n")
	classes := write("cluster.yaml", "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: x\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n")
	const refused = "articles of these charters query cluster data (kinds Ingress, Namespace, PodDisruptionBudget, Service, StorageClass): give those objects with --data"
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		output string
	}{
		{"new side queries, no data: refused", []string{"--old", plainCharter, "--new", clusterCharter, pvc}, 2, refused},
		{"old side queries, no data: refused", []string{"--old", clusterCharter, "--new", plainCharter, pvc}, 2, refused},
		{"both sides, from stdin: refused", []string{"--old", clusterCharter, "--new", clusterCharter, "-"}, 2, refused},
		{"--empty-cluster: the StorageClass is unknown, newly denied", []string{"--old", plainCharter, "--new", clusterCharter, "--empty-cluster", pvc}, 1, "StorageClass fast does not exist"},
		{"--data: the StorageClass exists, nothing changes", []string{"--old", plainCharter, "--new", clusterCharter, "--data", classes, pvc}, 0, "0 changed of 1 objects"},
		{"--data and --empty-cluster", []string{"--old", plainCharter, "--new", clusterCharter, "--data", classes, "--empty-cluster", pvc}, 2, "give --data or --empty-cluster, not both"},
		{"--data from stdin", []string{"--old", plainCharter, "--new", clusterCharter, "--data", "-", pvc}, 2, "--data: - (stdin) is for the manifests"},
		{"no cluster queries on either side need no data", []string{"--old", plainCharter, "--new", plainCharter, pvc}, 0, "0 changed of 1 objects"},
		{"a live diff takes no --data", []string{"--old", plainCharter, "--new", clusterCharter, "--data", classes}, 2, "a live diff reads cluster data from the cluster"},
		{"a live diff takes no --empty-cluster", []string{"--old", plainCharter, "--new", clusterCharter, "--empty-cluster"}, 2, "a live diff reads cluster data from the cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", append([]string{"diff"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.output) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", code, tc.code, stdout, stderr, tc.output)
			}
		})
	}
}
