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

// requireKernel is the one place these tests skip: not root, or a kernel
// feature the agent's fallback path needs is missing. It names which.
func requireKernel(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skipf("SKIP: eBPF kernel tests need root (running as uid %d)", os.Geteuid())
	}
	if f := agent.MissingFeature(); f != "" {
		tb.Skipf("SKIP: kernel lacks %s", f)
	}
}

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
		tb.Logf("hook path exercised: %s", k.Hook().Description())
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

func setRules(tb testing.TB, k *agent.Kernel, rules []agent.Rule) {
	tb.Helper()
	e, err := agent.Compile(rules)
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

// signalOf runs cmd and returns the signal that ended it, or 0 after a normal exit.
func signalOf(tb testing.TB, cmd *exec.Cmd) syscall.Signal {
	tb.Helper()
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() {
			return ws.Signal()
		}
		tb.Fatalf("%v: %v", cmd.Args, err)
	} else if err != nil {
		tb.Fatalf("%v: %v", cmd.Args, err)
	}
	return 0
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
