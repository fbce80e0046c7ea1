package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// stricterCharter is scanCharter plus an article denying the host network.
const stricterCharter = scanCharter + `  - id: SC-004
    title: No host network
    match: {kinds: [Pod]}
    violation:
      any:
      - {path: pod.spec.hostNetwork, op: equals, value: true}
    message: "the pod shares the host network"
`

// TestDiffCluster: `charter diff` on the live apiserver names exactly the
// objects a stricter charter would deny, and exits 1 for them.
func TestDiffCluster(t *testing.T) {
	s := newScenario(t, "diff-a")
	for _, p := range []*corev1.Pod{
		s.pod("ok", nil),
		s.pod("hostnet", func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
		s.pod("priv", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
		}),
		s.pod("priv-hostnet", func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
		}),
	} {
		if err := s.createPod(p, false); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	kubeconfig, oldC, newC := filepath.Join(dir, "kubeconfig"), filepath.Join(dir, "old.yaml"), filepath.Join(dir, "new.yaml")
	if err := env.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	for p, src := range map[string]string{oldC: scanCharter, newC: stricterCharter} {
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr := charterCLI(t, "diff", "--old", oldC, "--new", newC, "--kubeconfig", kubeconfig, "-n", "diff-a", "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (an object becomes denied)\n%s\n%s", code, stderr, out)
	}
	var doc struct {
		Objects int
		Changes []struct {
			Kind, Namespace, Name, Change string
			Added                         []struct{ Article string }
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range doc.Changes {
		arts := []string{}
		for _, a := range c.Added {
			arts = append(arts, a.Article)
		}
		got = append(got, c.Change+" "+c.Kind+" "+c.Namespace+"/"+c.Name+" +"+strings.Join(arts, ","))
	}
	want := []string{"newly denied Pod diff-a/hostnet +SC-004", "findings changed Pod diff-a/priv-hostnet +SC-004"}
	if doc.Objects != 4 || strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("diff on %d objects = %v, want %v on 4", doc.Objects, got, want)
	}
	code, _, stderr = charterCLI(t, "diff", "--old", newC, "--new", oldC, "--kubeconfig", kubeconfig, "-n", "diff-a")
	if code != 0 {
		t.Errorf("relaxing the charter denies nothing new, exit %d\n%s", code, stderr)
	}
}
