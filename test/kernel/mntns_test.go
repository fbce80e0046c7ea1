package kernel

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charter-dev/charter/agent"
	"golang.org/x/sys/unix"
)

// nsHolder runs in its own mount namespace: it mounts a tmpfs on DIR (seen
// only there), puts a copy of touch at DIR/tool and a hard link DIR/link,
// says "ready", and on the next stdin line ("exec OUT") execs DIR/link OUT.
func nsHolder(dir string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	b, err := os.ReadFile("/usr/bin/touch")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tool"), b, 0o755); err != nil {
		return err
	}
	if err := os.Link(filepath.Join(dir, "tool"), filepath.Join(dir, "link")); err != nil {
		return err
	}
	fmt.Println("ready")
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		return err
	}
	out, _ := strings.CutPrefix(strings.TrimSpace(line), "exec ")
	return unix.Exec(filepath.Join(dir, "link"), []string{"link", out}, os.Environ())
}

// TestIdentityResolvedInContainerMountNamespace: a rule file that exists only
// in a container's mount namespace is resolved there (through /proc/PID/root
// of a process in the scoped cgroup), so a hard link to it is denied inside
// that container.
func TestIdentityResolvedInContainerMountNamespace(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	dir := t.TempDir()
	nsdir := filepath.Join(dir, "ns")
	if err := os.Mkdir(nsdir, 0o755); err != nil {
		t.Fatal(err)
	}
	holder := cg.command(os.Args[0], nsdir)
	holder.Env = helperEnv("ns-holder")
	holder.SysProcAttr.Cloneflags = syscall.CLONE_NEWNS
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("namespace holder: %q, %v", line, err)
	}
	tool := filepath.Join(nsdir, "tool")
	if _, err := os.Stat(tool); err == nil {
		t.Fatalf("%s is visible outside the container's mount namespace; the test proves nothing", tool)
	}

	own, err := agent.OwnRoot()
	if err != nil {
		t.Fatal(err)
	}
	roots := agent.ScopeRoots([]string{cg.path}, own.MntNS)
	if len(roots) != 1 || roots[0].Dir != fmt.Sprintf("/proc/%d/root", holder.Process.Pid) {
		t.Fatalf("scope roots %+v, want the holder's /proc/%d/root", roots, holder.Process.Pid)
	}
	// The whole agent: its Reload resolves the charter's files in its own
	// root and in the holder's.
	file := filepath.Join(dir, "charter.yaml")
	writeCharter(t, file, tool)
	ag, err := agent.New(agent.Options{
		Source:      agent.CharterSource{Paths: []string{file}},
		Cgroups:     []string{cg.path},
		Mode:        agent.ModeEnforce,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		ReloadEvery: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	logHookPath(t, ag.Hook())
	hook := ag.Hook()
	out := filepath.Join(dir, "out")
	if _, err := io.WriteString(stdin, "exec "+out+"\n"); err != nil {
		t.Fatal(err)
	}
	err = holder.Wait()
	got := ran
	if ee, ok := err.(interface{ Sys() any }); ok && err != nil {
		ws := ee.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled() && ws.Signal() == syscall.SIGKILL:
			got = killed
		case ws.Exited() && ws.ExitStatus() == helperEPERM:
			got = refused
		default:
			t.Fatalf("holder: %v", err)
		}
	}
	verdict := map[bool]string{true: "denied", false: "ran"}[got == denied(hook)]
	t.Logf("red-team: %-46s | %-22s | %-6s | %-16s | hook %s (identity resolved in the container's mount namespace)", "hard link inside another mount namespace", "deny-list", verdict, got, hook)
	if got != denied(hook) || exists(out) {
		t.Fatalf("hard link in the container: %s (side effect %v), want %s", got, exists(out), denied(hook))
	}
}
