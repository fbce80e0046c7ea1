package interop

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runEnv runs a command with extra environment variables and returns its
// output and exit code.
func runEnv(t *testing.T, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = workDir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("%s: %v", name, err)
	return "", 0
}

// TestConftestPlugin: `conftest plugin install ./conftest` into an empty
// home adds `conftest charter`, which runs the charter CLI with conftest's
// arguments and exits with its code.
func TestConftestPlugin(t *testing.T) {
	conftest := tool(t, "conftest")
	bin := cli(t)
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_DATA_DIRS=" + filepath.Join(home, "none"), "CHARTER=" + bin}
	if out, code := runEnv(t, env, conftest, "plugin", "install", filepath.Join(root, "conftest")); code != 0 {
		t.Fatalf("conftest plugin install ./conftest: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(home, "data", ".conftest", "plugins", "charter", "plugin.yaml")); err != nil {
		t.Fatalf("the plugin is not in conftest's XDG plugin directory: %v", err)
	}
	pod := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(pod, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers: [{name: a, image: nginx, securityContext: {privileged: true}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	charter := filepath.Join(root, "policies", "anti-delos.yaml")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"version", []string{"charter", "version", "-o", "json"}, 0, `"opaVersion": "v1.22.3"`},
		{"eval denies", []string{"charter", "eval", "--charter", charter, pod}, 1, "AD-001"},
		{"bad input", []string{"charter", "eval", "--charter", charter}, 2, "requires at least 1 arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runEnv(t, env, conftest, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("conftest %s: exit %d, want %d and %q in:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out)
			}
		})
	}
	out, code := runEnv(t, append(env, "CHARTER=/nonexistent/charter"), conftest, "charter", "version")
	if code != 2 || !strings.Contains(out, "is not on PATH") {
		t.Errorf("conftest charter without the CLI: exit %d:\n%s", code, out)
	}
}

// TestConftestSignedBundle: the documented way to run stock conftest against
// a signed bundle (conftest/README.md): charter bundle verify, extract,
// conftest test --policy --namespace charter. A tampered bundle stops at
// verify.
func TestConftestSignedBundle(t *testing.T) {
	conftest := tool(t, "conftest")
	bin := cli(t)
	f := newSigningFixture(t)
	pod := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(pod, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers: [{name: a, image: nginx, securityContext: {privileged: true}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, bin, "bundle", "verify", "--key", f.pub, f.tarball)
	policy := filepath.Join(t.TempDir(), "policy")
	if err := os.Mkdir(policy, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-xzf", f.tarball, "-C", policy).CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	r := execute(t, nil, conftest, "test", "--policy", policy, "--namespace", "charter", "--no-color", pod)
	if r.code != 1 || !strings.Contains(string(r.stdout), "AD-001") {
		t.Errorf("conftest test with the verified bundle: %s", r)
	}
	if r := execute(t, nil, bin, "bundle", "verify", "--key", f.pub, tamperedCopy(t, f.tarball)); r.code != 1 {
		t.Errorf("charter bundle verify passed a tampered bundle: %s", r)
	}
}
