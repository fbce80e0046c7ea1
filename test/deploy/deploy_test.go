package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/charter-dev/charter/internal/cli"
	"github.com/charter-dev/charter/internal/manifest"
)

const (
	root      = "../.."
	antiDelos = root + "/policies/anti-delos.yaml"
	image     = "ghcr.io/charter-dev/charter"
)

// render is `kubectl kustomize deploy/`.
func render(t *testing.T) []byte {
	t.Helper()
	kubectl := filepath.Join(root, "bin", "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("%s is missing: run `make e2e-tools` first (builds the pinned kubectl into bin/)", kubectl)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", filepath.Join(root, "deploy"))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize deploy/: %v\n%s", err, stderr.String())
	}
	return out
}

// TestDeployPassesAntiDelos is `kubectl kustomize deploy/ | charter eval
// --charter policies/anti-delos.yaml -o json -`, the CLI run in-process:
// exit 0, every object allowed without a single finding, the agent and the
// webhook among them, and every container on the release image.
func TestDeployPassesAntiDelos(t *testing.T) {
	rendered := render(t)
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), []string{"eval", "--charter", antiDelos, "-o", "json", "-"},
		cli.Streams{In: bytes.NewReader(rendered), Out: &out, Err: &errOut})
	if code != 0 {
		t.Errorf("charter eval exit %d, want 0; stderr:\n%s", code, errOut.String())
	}
	var report struct {
		Results []struct {
			Kind, Namespace, Name string
			Allowed               bool
			Violations            []struct{ Article, Action, Message string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("charter eval -o json: %v\n%s", err, out.String())
	}
	var seen []string
	for _, r := range report.Results {
		id := r.Kind + " " + r.Namespace + "/" + r.Name
		seen = append(seen, id)
		if !r.Allowed {
			t.Errorf("%s is denied", id)
		}
		for _, v := range r.Violations {
			t.Errorf("%s: %s %s: %s", id, v.Action, v.Article, v.Message)
		}
	}
	for _, want := range []string{"DaemonSet charter-system/charter-agent", "Deployment charter-system/charter-webhook",
		"ValidatingWebhookConfiguration /charter", "Namespace /charter-system"} {
		if !slices.Contains(seen, want) {
			t.Errorf("charter eval did not decide %s; it decided %v", want, seen)
		}
	}

	release := releaseTag(t)
	docs := parse(t, rendered)
	containers := 0
	for _, d := range docs {
		for _, c := range podContainers(d.Object) {
			containers++
			if got := c["image"]; got != image+":"+release {
				t.Errorf("%s %s: container %v runs %v, want the release image %s:%s (deploy/kustomization.yaml images:)",
					d.Kind(), d.Name(), c["name"], got, image, release)
			}
		}
	}
	if containers != 2 {
		t.Errorf("found %d containers in deploy/, want 2 (webhook and agent)", containers)
	}
}

// releaseTag is the tag deploy/ pins: the VERSION file when there is one,
// else the tag in deploy/kustomization.yaml (which AD-002 keeps off latest).
func releaseTag(t *testing.T) string {
	t.Helper()
	if v, err := os.ReadFile(filepath.Join(root, "VERSION")); err == nil {
		return strings.TrimSpace(string(v))
	}
	k, err := os.ReadFile(filepath.Join(root, "deploy", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(k), "\n") {
		if tag, ok := strings.CutPrefix(strings.TrimSpace(line), "newTag: "); ok {
			return tag
		}
	}
	t.Fatal("deploy/kustomization.yaml pins no newTag")
	return ""
}

func parse(t *testing.T, rendered []byte) []manifest.Doc {
	t.Helper()
	docs, errs := manifest.Parse("deploy", rendered)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return docs
}

// podContainers are the containers of an object's pod template (or pod).
func podContainers(obj map[string]any) []map[string]any {
	spec, _ := obj["spec"].(map[string]any)
	if tmpl, ok := spec["template"].(map[string]any); ok {
		spec, _ = tmpl["spec"].(map[string]any)
	}
	list, _ := spec["containers"].([]any)
	var out []map[string]any
	for _, c := range list {
		if m, ok := c.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
