package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditScanManifests: over files and stdin, audit scan decides as eval
// does; bad combinations and unreachable clusters are bad input (exit 2).
func TestAuditScanManifests(t *testing.T) {
	dir := t.TempDir()
	pod := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(pod, []byte(privilegedPod), 0o644); err != nil {
		t.Fatal(err)
	}
	badKube := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(badKube, []byte("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"file", "", []string{pod}, 1, "DENY Pod default/web", ""},
		{"stdin as policyreport", privilegedPod, []string{"-o", "policyreport", "-"}, 1, `"kind": "PolicyReport"`, ""},
		{"paths and a cluster", "", []string{"--kubeconfig", badKube, pod}, 2, "", "not both"},
		{"apply with paths", "", []string{"--apply", pod}, 2, "", "--apply writes the PolicyReports of a cluster scan"},
		{"kubeconfig without a context", "", []string{"--kubeconfig", badKube}, 2, "", "kubeconfig"},
		{"missing kubeconfig", "", []string{"--kubeconfig", filepath.Join(dir, "none")}, 2, "", "no such file"},
		{"bad chunk size", "", []string{"--kubeconfig", badKube, "--chunk-size", "0"}, 2, "", "--chunk-size must be positive"},
		{"unknown output", "", []string{"-o", "pdf", pod}, 2, "", `unknown output "pdf"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"audit", "scan", "--charter", charterFile}, tc.args...)
			code, out, errOut := run(t, tc.stdin, args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant %q / %q", code, tc.code, out, errOut, tc.stdout, tc.stderr)
			}
		})
	}
}
