package kernel

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/charter-dev/charter/agent"
	"github.com/charter-dev/charter/charter"
	"golang.org/x/sys/unix"
)

// The red-team table (issue #14): each attempt is what a process that can
// write files in its own container tries, against one posture. Each prints
// its verdict and the hook path ("red-team:" lines, collected by make
// test-kernel). Verdicts: "denied" (the kernel stopped it: SIGKILL on the
// fallback path, EPERM on the LSM path; EPERM on both for the network) or
// "ran". A "ran" inside the scope is a documented limit of that posture.

const (
	bash   = "/usr/bin/bash"
	loader = "/lib64/ld-linux-x86-64.so.2"
	// bashTouch makes bash create the file named by its $0.
	bashTouch = `touch "$0"`
)

type attempt struct {
	name string
	cmd  func(out string) *exec.Cmd
	want string // "denied" or "ran"
	note string // why, printed with the verdict
	net  bool   // a network attempt: the helper's exit says EPERM, no side effect file
}

// try runs every attempt in its own subtest, checks the verdict and the side
// effect, and prints the red-team line.
func try(t *testing.T, hook agent.HookPath, posture string, attempts []attempt) {
	t.Helper()
	dir := t.TempDir()
	for i, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("out-%d", i))
			cmd := a.cmd(out)
			got := outcomeOf(t, cmd)
			verdict := "ran"
			switch {
			case a.net && got == refused, !a.net && got == denied(hook):
				verdict = "denied"
			case got != ran:
				t.Fatalf("%s: %s on the %s path, want %s or a normal run", a.name, got, hook, denied(hook))
			}
			t.Logf("red-team: %-46s | %-22s | %-6s | %-16s | hook %s%s", a.name, posture, verdict, got, hook, note(a.note))
			if verdict != a.want {
				t.Errorf("%s: %s (%s), want %s", a.name, verdict, got, a.want)
			}
			if !a.net && exists(out) != (verdict == "ran") {
				t.Errorf("%s: verdict %s but side effect present = %v", a.name, verdict, exists(out))
			}
		})
	}
}

func note(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func helperCmd(cg *cgroup, op string, args ...string) *exec.Cmd {
	cmd := execCommand(os.Args[0], args...)
	if cg != nil {
		cmd = cg.command(os.Args[0], args...)
	}
	cmd.Env = helperEnv(op)
	return cmd
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// linkNear hard-links src under a new name in a temporary directory on src's
// filesystem (the test's temp dir when it is one, else /var/tmp or
// /usr/local) and returns the link's path.
func linkNear(t *testing.T, src, name string) string {
	t.Helper()
	for _, parent := range []string{"", "/var/tmp", "/usr/local"} {
		dir := t.TempDir()
		if parent != "" {
			var err error
			if dir, err = os.MkdirTemp(parent, "charter-test-"); err != nil {
				continue
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
		}
		dst := filepath.Join(dir, name)
		if err := os.Link(src, dst); err == nil {
			return dst
		}
	}
	skipOrFail(t, fmt.Sprintf("no writable directory on the filesystem of %s for a hard link", src))
	return ""
}

func link(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.Link(src, dst); err != nil {
		skipOrFail(t, fmt.Sprintf("hard link %s -> %s: %v (the test needs them on one filesystem)", dst, src, err))
	}
}

func TestRedTeamDenyList(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	dir := t.TempDir()
	tool := copyBinary(t, dir, "tool")
	hardlink := linkNear(t, bash, "hl")
	symlink := filepath.Join(dir, "sym")
	if err := os.Symlink(bash, symlink); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(script, []byte("#!/bin/bash\ntouch \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(dir, "copy")
	copyFile(t, bash, cp)
	doomed := filepath.Join(dir, "deleted-copy")
	copyFile(t, bash, doomed)
	rule := agent.Rule{Article: "AD-017", Runtime: charter.Runtime{
		Exec:   &charter.ExecRule{Deny: []string{bash, "/bin/bash", tool}, DenyFileless: true},
		Action: "deny",
	}}
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{rule}, cg.id)
	renamed := filepath.Join(dir, "renamed")
	if err := os.Rename(tool, renamed); err != nil { // after the identities were resolved
		t.Fatal(err)
	}
	in := func(name string, args ...string) func(string) *exec.Cmd {
		return func(out string) *exec.Cmd { return cg.command(name, append(args, out)...) }
	}
	outside := func(name string, args ...string) func(string) *exec.Cmd {
		return func(out string) *exec.Cmd { return execCommand(name, append(args, out)...) }
	}
	helper := func(op string, args ...string) func(string) *exec.Cmd {
		return func(out string) *exec.Cmd { return helperCmd(cg, op, append(args, out)...) }
	}
	try(t, k.Hook(), "deny-list+denyFileless", []attempt{
		{name: "bash by path", cmd: in(bash, "-c", bashTouch), want: "denied"},
		{name: "symlink to bash", cmd: in(symlink, "-c", bashTouch), want: "denied"},
		{name: "'..' path (/usr/bin/../bin/bash)", cmd: in("/usr/bin/../bin/bash", "-c", bashTouch), want: "denied"},
		{name: "shebang script (#!/bin/bash)", cmd: in(script), want: "denied"},
		{name: "hard link to bash", cmd: in(hardlink, "-c", bashTouch), want: "denied", note: "identity"},
		{name: "renamed binary (listed file, renamed after load)", cmd: in(renamed), want: "denied", note: "identity"},
		{name: "memfd (memfd_create + execve /proc/self/fd/N)", cmd: helper("memfd-exec", bash, "-c", bashTouch), want: "denied", note: "denyFileless"},
		{name: "execveat(AT_EMPTY_PATH) of bash", cmd: helper("execveat", bash, "-c", bashTouch), want: "denied"},
		{name: "execveat(AT_EMPTY_PATH) of a deleted copy", cmd: helper("execveat-deleted", doomed, "-c", bashTouch), want: "denied", note: "denyFileless"},
		{name: "copy of bash", cmd: in(cp, "-c", bashTouch), want: "ran", note: "limit: a copy is a new file; a deny-list cannot know it, an allow-list denies it"},
		{name: "dynamic-loader trick (ld.so /usr/bin/bash)", cmd: in(loader, bash, "-c", bashTouch), want: "ran", note: "limit: the loader maps bash, no exec of bash happens; an allow-list denies it"},
		{name: "allowed binary in scope (/usr/bin/touch)", cmd: in("/usr/bin/touch"), want: "ran"},
		{name: "outside scope: bash", cmd: outside(bash, "-c", bashTouch), want: "ran"},
		{name: "outside scope: hard link to bash", cmd: outside(hardlink, "-c", bashTouch), want: "ran"},
	})
}

func TestRedTeamMultiCall(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	dir := t.TempDir()
	sh := filepath.Join(dir, "mc-sh")
	copyFile(t, os.Args[0], sh)
	ls := filepath.Join(dir, "mc-ls")
	link(t, sh, ls)
	rule := agent.Rule{Article: "AD-017", Runtime: charter.Runtime{Exec: &charter.ExecRule{Deny: []string{sh}}, Action: "deny"}}
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{rule}, cg.id)
	asShell := func(c *cgroup) func(string) *exec.Cmd {
		return func(out string) *exec.Cmd {
			cmd := execCommand(ls, out)
			if c != nil {
				cmd = c.command(ls, out)
			}
			cmd.Args[0] = "mc-sh" // the applet is chosen by argv[0]
			return cmd
		}
	}
	try(t, k.Hook(), "deny-list", []attempt{
		{name: "multi-call binary via another name (argv[0] sh)", cmd: asShell(cg), want: "denied", note: "identity; every applet of the file is denied with it"},
		{name: "outside scope: multi-call binary", cmd: asShell(nil), want: "ran"},
	})
}

func TestRedTeamAllowList(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	dir := t.TempDir()
	touchCopy := copyBinary(t, dir, "touch-copy")
	touchLink := linkNear(t, "/usr/bin/touch", "touch-link")
	cp := filepath.Join(dir, "bash-copy")
	copyFile(t, bash, cp)
	sh := filepath.Join(dir, "mc-sh")
	copyFile(t, os.Args[0], sh)
	ls := filepath.Join(dir, "mc-ls")
	link(t, sh, ls)
	// The test binary is allowed: it is the helper that tries memfds and execveat.
	rule := agent.Rule{Article: "AD-021", Runtime: charter.Runtime{
		Exec:   &charter.ExecRule{Allow: []string{os.Args[0], "/usr/bin/touch", ls}},
		Action: "deny",
	}}
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{rule}, cg.id)
	in := func(name string, args ...string) func(string) *exec.Cmd {
		return func(out string) *exec.Cmd { return cg.command(name, append(args, out)...) }
	}
	helper := func(op string, args ...string) func(string) *exec.Cmd {
		return func(out string) *exec.Cmd { return helperCmd(cg, op, append(args, out)...) }
	}
	try(t, k.Hook(), "allow-list", []attempt{
		{name: "allowed binary (/usr/bin/touch)", cmd: in("/usr/bin/touch"), want: "ran"},
		{name: "copy of an allowed binary", cmd: in(touchCopy), want: "denied", note: "new identity"},
		{name: "copy of bash", cmd: in(cp, "-c", bashTouch), want: "denied"},
		{name: "bash", cmd: in(bash, "-c", bashTouch), want: "denied"},
		{name: "dynamic-loader trick (ld.so /usr/bin/touch)", cmd: in(loader, "/usr/bin/touch"), want: "denied", note: "the loader is not allowed"},
		{name: "memfd of an allowed binary", cmd: helper("memfd-exec", "/usr/bin/touch"), want: "denied"},
		{name: "execveat(AT_EMPTY_PATH) of an allowed binary", cmd: helper("execveat", "/usr/bin/touch"), want: "ran"},
		{name: "hard link of an allowed binary", cmd: in(touchLink), want: "ran", note: "the same file under another name"},
		{name: "multi-call binary: allowed file, other applet", cmd: func(out string) *exec.Cmd {
			cmd := cg.command(ls, out)
			cmd.Args[0] = "mc-sh"
			return cmd
		}, want: "ran", note: "limit: an allow-list admits a file with all its applets"},
		{name: "outside scope: copy of bash", cmd: func(out string) *exec.Cmd { return execCommand(cp, "-c", bashTouch, out) }, want: "ran"},
	})
}

func listen6(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		skipOrFail(t, fmt.Sprintf("no IPv6 loopback: %v", err))
	}
	acceptAndClose(t, l)
	return l.Addr().(*net.TCPAddr).Port
}

func netAttempt(cg *cgroup, want, name string, op string, args ...string) attempt {
	return attempt{name: name, want: want, net: true, cmd: func(string) *exec.Cmd { return helperCmd(cg, op, args...) }}
}

func TestRedTeamNetworkDenyList(t *testing.T) {
	requireKernel(t)
	cg := newCgroup(t, rootCgroup(t))
	_, a := listen(t)
	_, b := listen(t)
	c := listen6(t)
	pa, pb, pc := strconv.Itoa(a), strconv.Itoa(b), strconv.Itoa(c)
	rule := agent.Rule{Article: "AD-018", Runtime: charter.Runtime{
		Connect: &charter.ConnectRule{Deny: []string{"127.0.0.77/32", "127.0.0.1/32:" + pb, "[::1/128]:" + pc}},
		Action:  "deny",
	}}
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{rule}, cg.id)
	try(t, k.Hook(), "connect deny-list", []attempt{
		netAttempt(cg, "denied", "TCP connect, denied IPv4 address", "connect", "127.0.0.77:"+pa),
		netAttempt(cg, "denied", "TCP connect, IPv4-mapped IPv6", "connect", "[::ffff:127.0.0.77]:"+pa),
		netAttempt(cg, "denied", "TCP connect, IPv6 literal", "connect", "[::1]:"+pc),
		netAttempt(cg, "denied", "UDP sendto without connect, IPv4", "udp-send", "4", "127.0.0.77", "9"),
		netAttempt(cg, "denied", "UDP sendto without connect, IPv4-mapped IPv6", "udp-send", "6", "::ffff:127.0.0.77", "9"),
		netAttempt(cg, "denied", "UDP sendto without connect, IPv6 literal", "udp-send", "6", "::1", pc),
		netAttempt(cg, "denied", "port in a deny rule (127.0.0.1:B)", "connect", "127.0.0.1:"+pb),
		netAttempt(cg, "ran", "same address, other port (127.0.0.1:A)", "connect", "127.0.0.1:"+pa),
		netAttempt(nil, "ran", "outside scope: UDP sendto denied address", "udp-send", "4", "127.0.0.77", "9"),
	})
}

func TestRedTeamNetworkAllowList(t *testing.T) {
	requireKernel(t)
	root := rootCgroup(t)
	cg := newCgroup(t, root)
	_, a := listen(t)
	_, b := listen(t)
	c := listen6(t)
	pa, pb, pc := strconv.Itoa(a), strconv.Itoa(b), strconv.Itoa(c)
	rule := agent.Rule{Article: "AD-022", Runtime: charter.Runtime{
		Connect: &charter.ConnectRule{Allow: []string{"127.0.0.1/32:" + pa}},
		Action:  "deny",
	}}
	k := loadKernel(t, agent.ModeEnforce, []agent.Rule{rule}, cg.id)
	try(t, k.Hook(), "connect allow-list", []attempt{
		netAttempt(cg, "ran", "allowed target (127.0.0.1:A)", "connect", "127.0.0.1:"+pa),
		netAttempt(cg, "ran", "allowed target as IPv4-mapped IPv6", "connect", "[::ffff:127.0.0.1]:"+pa),
		netAttempt(cg, "denied", "other port (127.0.0.1:B)", "connect", "127.0.0.1:"+pb),
		netAttempt(cg, "denied", "IPv6 literal (::1)", "connect", "[::1]:"+pc),
		netAttempt(cg, "ran", "UDP sendto allowed target", "udp-send", "4", "127.0.0.1", pa),
		netAttempt(cg, "denied", "UDP sendto other target", "udp-send", "4", "127.0.0.1", "9"),
		netAttempt(cg, "denied", "UDP sendto other target, IPv4-mapped IPv6", "udp-send", "6", "::ffff:127.0.0.1", "9"),
	})
	// No false kill: the agent itself, inside the scope, is never acted upon,
	// and PID 1 (never in scope) is alive.
	moveSelf(t, cg.path, root)
	conn, err := net.Dial("tcp", "127.0.0.1:"+pb)
	verdict := "ran"
	if err != nil {
		verdict = "denied"
		t.Errorf("the agent's own connect in scope was refused: %v", err)
	} else {
		conn.Close()
	}
	t.Logf("red-team: %-46s | %-22s | %-6s | %-16s | hook %s", "agent process inside scope connects elsewhere", "connect allow-list", verdict, "", k.Hook())
	if err := unix.Kill(1, 0); err != nil {
		t.Errorf("PID 1: %v", err)
	}
}
