package kernel

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/charter-dev/charter/agent"
	"github.com/charter-dev/charter/charter"
)

// requireKernel is the one place these tests may skip: not root, or a kernel
// feature the agent's fallback path needs is missing. It names which. In CI
// (CI=true) neither is a reason to skip: the suite fails, so a runner without
// BPF rights cannot pass it having run nothing. A probe that breaks for another
// reason fails everywhere.
func requireKernel(tb testing.TB) {
	tb.Helper()
	reason := ""
	if os.Geteuid() != 0 {
		reason = fmt.Sprintf("eBPF kernel tests need root (running as uid %d)", os.Geteuid())
	} else {
		f, err := agent.MissingFeature()
		if err != nil {
			tb.Fatalf("kernel feature probe: %v", err)
		}
		if f != "" {
			reason = "kernel lacks " + f
		}
	}
	if reason == "" {
		return
	}
	skipOrFail(tb, reason)
}

// skipOrFail skips with the reason outside CI and fails under CI=true.
func skipOrFail(tb testing.TB, reason string) {
	tb.Helper()
	if inCI() {
		tb.Fatalf("FAIL: CI=true and %s: in CI a missing kernel feature is a failure, not a skip", reason)
	}
	tb.Skipf("SKIP: %s", reason)
}

// inCI is true under CI=true (as .ci/run sets it).
func inCI() bool { return os.Getenv("CI") == "true" }

// cgroup is a cgroup v2 directory made for one test, removed at cleanup.
type cgroup struct {
	path string
	id   uint64
	fd   int
}

func newCgroup(tb testing.TB, parent string) *cgroup {
	tb.Helper()
	dir, err := os.MkdirTemp(parent, "charter-test-")
	if err != nil {
		tb.Fatalf("make cgroup: %v", err)
	}
	return openCgroup(tb, dir)
}

func openCgroup(tb testing.TB, dir string) *cgroup {
	tb.Helper()
	id, err := agent.CgroupID(dir)
	if err != nil {
		tb.Fatal(err)
	}
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("open cgroup: %v", err)
	}
	tb.Cleanup(func() {
		syscall.Close(fd)
		// Processes are gone once their Wait returned; retry in case the kernel lags.
		for range 50 {
			if err := os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		tb.Logf("cgroup %s left behind", dir)
	})
	return &cgroup{path: dir, id: id, fd: fd}
}

func rootCgroup(tb testing.TB) string {
	tb.Helper()
	root, err := agent.CgroupV2Mount()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// command prepares cmd to start inside the cgroup (clone3 CLONE_INTO_CGROUP),
// so it runs there from its first instruction.
func (c *cgroup) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: c.fd}
	return cmd
}

// loadKernel loads the agent's programs, scoped to ids, in mode with rules.
func loadKernel(tb testing.TB, mode agent.Mode, rules []agent.Rule, ids ...uint64) *agent.Kernel {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	k, err := agent.LoadKernel(agent.KernelOptions{Logger: log})
	if err != nil {
		tb.Fatalf("load kernel programs: %v", err)
	}
	tb.Cleanup(func() { k.Close() })
	if _, bench := tb.(*testing.B); !bench { // benchmarks load many times and log once
		logHookPath(tb, k.Hook())
	}
	setRules(tb, k, rules)
	if err := k.SetScope(ids); err != nil {
		tb.Fatal(err)
	}
	if err := k.SetMode(mode); err != nil {
		tb.Fatal(err)
	}
	return k
}

// logHookPath prints which hook path a test ran on, in one greppable line
// (make test-kernel collects them).
func logHookPath(tb testing.TB, h agent.HookPath) {
	tb.Helper()
	tb.Logf("hook path: %s ran on %s", tb.Name(), h)
}

func setRules(tb testing.TB, k *agent.Kernel, rules []agent.Rule) {
	tb.Helper()
	own, err := agent.OwnRoot()
	if err != nil {
		tb.Fatal(err)
	}
	e, err := agent.Compile(rules, []agent.Root{own})
	if err != nil {
		tb.Fatal(err)
	}
	if err := k.SetRules(e); err != nil {
		tb.Fatal(err)
	}
}

func execRule(id string, action string, paths ...string) agent.Rule {
	return agent.Rule{Article: id, Runtime: charter.Runtime{Exec: &charter.ExecRule{Deny: paths}, Action: action}}
}

// copyBinary puts a copy of /usr/bin/touch under dir/name: a binary whose
// only effect is creating the file named by its argument.
func copyBinary(tb testing.TB, dir, name string) string {
	tb.Helper()
	src, err := exec.LookPath("touch")
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// How a process started by a test ended.
const (
	ran     = "ran"              // exit 0
	killed  = "killed (SIGKILL)" // fallback path: the new image never ran an instruction
	refused = "refused (EPERM)"  // LSM path: execve (or the helper's call) failed with EPERM
)

// denied is what a denied exec looks like on hook path h: the LSM path makes
// execve fail with EPERM, the fallback kills the new image with SIGKILL.
func denied(h agent.HookPath) string {
	if h == agent.HookLSM {
		return refused
	}
	return killed
}

// outcomeOf runs cmd and says how it ended. A helper exiting with helperEPERM
// counts as refused; any other failure ends the test.
func outcomeOf(tb testing.TB, cmd *exec.Cmd) string {
	tb.Helper()
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return ran
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return killed
		}
		if ws.Exited() && ws.ExitStatus() == helperEPERM {
			return refused
		}
	case cmd.Process == nil && errors.Is(err, syscall.EPERM):
		return refused // the child's execve failed: Start reports it
	}
	tb.Fatalf("%v: %v", cmd.Args, err)
	return ""
}

// isProcess says whether event e came from cmd's process. On the LSM path a
// refused execve leaves no process to name, and the event is matched by path.
func isProcess(cmd *exec.Cmd, e agent.Event) bool {
	if cmd.Process == nil {
		return e.Path == cmd.Path
	}
	return e.PID == uint32(cmd.Process.Pid)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// waitEvent reads events until match accepts one; it gives up after a
// generous deadline (an upper bound on a wait, not a timing assertion).
func waitEvent(tb testing.TB, r *agent.EventReader, match func(agent.Event) bool) agent.Event {
	tb.Helper()
	r.SetDeadline(time.Now().Add(10 * time.Second))
	var seen []string
	for {
		e, err := r.Read()
		if err != nil {
			tb.Fatalf("no matching event (saw %v): %v", seen, err)
		}
		if match(e) {
			return e
		}
		seen = append(seen, fmt.Sprintf("%s %s pid=%d %s", e.Kind, e.Verdict, e.PID, e.Path))
	}
}
