package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalData: --data gives eval, test and scan of files the cluster's
// objects; without it (or --empty-cluster) a charter with cluster queries
// is refused, naming the kinds; bad --data is bad input (exit 2).
func TestEvalData(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clusterCharter := "../../examples/charters/cluster-data.yaml"
	pvc := write("pvc.yaml", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: shop}\nspec: {storageClassName: fast}\n")
	classes := filepath.Join(dir, "cluster")
	if err := os.Mkdir(classes, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(classes, "sc.yaml"), []byte("apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: x\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := write("empty.yaml", "# nothing\n")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		output string
	}{
		{"no data is refused, naming the kinds", []string{"eval", "--charter", clusterCharter, pvc}, 2,
			"articles of this charter query cluster data (kinds Ingress, Namespace, PodDisruptionBudget, Service, StorageClass): give those objects with --data"},
		{"--empty-cluster: the StorageClass is unknown", []string{"eval", "--charter", clusterCharter, "--empty-cluster", pvc}, 1, "StorageClass fast does not exist"},
		{"--data and --empty-cluster", []string{"eval", "--charter", clusterCharter, "--empty-cluster", "--data", classes, pvc}, 2, "give --data or --empty-cluster, not both"},
		{"scan of files without data is refused", []string{"audit", "scan", "--charter", clusterCharter, pvc}, 2, "query cluster data (kinds Ingress, Namespace"},
		{"scan of files with --data", []string{"audit", "scan", "--charter", clusterCharter, "--data", classes, pvc}, 0, "data"},
		{"scan of files with --empty-cluster", []string{"audit", "scan", "--charter", clusterCharter, "--empty-cluster", pvc}, 1, "StorageClass fast does not exist"},
		{"a charter without cluster queries needs no data", []string{"eval", "--charter", "../../examples/charters/container-limits.yaml", pvc}, 0, ""},
		{"the StorageClass in --data", []string{"eval", "--charter", clusterCharter, "--data", classes, pvc}, 0, ""},
		{"test with --data", []string{"test", "--data", classes, clusterCharter}, 0, "12 passed, 0 failed"},
		{"--data without objects", []string{"eval", "--charter", clusterCharter, "--data", empty, pvc}, 2, "--data: no Kubernetes objects"},
		{"--data that does not exist", []string{"eval", "--charter", clusterCharter, "--data", filepath.Join(dir, "nope"), pvc}, 2, "nope: no such file or directory"},
		{"--data from stdin", []string{"eval", "--charter", clusterCharter, "--data", "-", pvc}, 2, "--data: - (stdin) is for the manifests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.output) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", code, tc.code, stdout, stderr, tc.output)
			}
		})
	}
}
