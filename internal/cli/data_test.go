package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalData: --data gives eval and test the cluster's objects; without
// it the StorageClass is unknown; bad --data is bad input (exit 2).
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
		{"no data: the StorageClass is unknown", []string{"eval", "--charter", clusterCharter, pvc}, 1, "StorageClass fast does not exist"},
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
