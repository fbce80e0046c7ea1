package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The test binary doubles as the workload: with CHARTER_KERNEL_HELPER set it
// performs one operation and exits, so the operation happens in whatever
// cgroup the test started it in.
func TestMain(m *testing.M) {
	// A busybox-style multi-call binary: a copy of this binary run under
	// the name mc-APPLET runs that applet, whatever file it was run from.
	if applet, ok := strings.CutPrefix(filepath.Base(os.Args[0]), "mc-"); ok {
		os.Exit(multiCall(applet, os.Args[1:]))
	}
	if op := os.Getenv("CHARTER_KERNEL_HELPER"); op != "" {
		os.Exit(helper(op, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// Helper exit codes.
const (
	helperOK    = 0
	helperEPERM = 13
	helperOther = 14
)

func helper(op string, args []string) int {
	var err error
	switch op {
	case "connect":
		var c net.Conn
		c, err = net.Dial("tcp", args[0])
		if err == nil {
			c.Close()
		}
	case "write":
		err = os.WriteFile(args[0], []byte("x"), 0o600)
	case "read":
		_, err = os.ReadFile(args[0])
	case "connect-loop": // ADDR N: N connects, for the connect benchmark
		n, _ := strconv.Atoi(args[1])
		for i := 0; i < n && err == nil; i++ {
			var c net.Conn
			if c, err = net.Dial("tcp", args[0]); err == nil {
				c.(*net.TCPConn).SetLinger(0) // reset, no TIME_WAIT pile-up between runs
				c.Close()
			}
		}
	case "udp-loop": // ADDR N: N datagrams with sendto, for the UDP benchmark
		n, _ := strconv.Atoi(args[1])
		var ap netip.AddrPort
		if ap, err = netip.ParseAddrPort(args[0]); err == nil {
			var fd int
			if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0); err == nil {
				sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
				for i := 0; i < n && err == nil; i++ {
					err = unix.Sendto(fd, []byte("x"), 0, sa)
				}
				unix.Close(fd)
			}
		}
	case "open-loop": // FILE N: N opens, for the event throughput benchmark
		n, _ := strconv.Atoi(args[1])
		for i := 0; i < n && err == nil; i++ {
			var f *os.File
			if f, err = os.Open(args[0]); err == nil {
				f.Close()
			}
		}
	case "udp-send": // FAMILY ADDR PORT: one datagram with sendto, no connect
		err = udpSend(args[0], args[1], args[2])
	case "memfd-exec": // SRC ARGS...: copy SRC into a memfd, execve /proc/self/fd/N
		err = memfdExec(args[0], args)
	case "execveat": // PATH ARGS...: execveat(open(PATH), "", AT_EMPTY_PATH)
		err = execveatPath(args[0], args, false)
	case "execveat-deleted": // PATH ARGS...: open PATH, unlink it, execveat the fd
		err = execveatPath(args[0], args, true)
	case "ns-holder": // DIR: see nsHolder
		err = nsHolder(args[0])
	case "chdir-write":
		if err = os.Chdir(args[0]); err == nil {
			err = os.WriteFile(args[1], []byte("x"), 0o600)
		}
	default:
		err = fmt.Errorf("unknown helper op %q", op)
	}
	if err == nil {
		return helperOK
	}
	fmt.Fprintln(os.Stderr, err)
	if errors.Is(err, syscall.EPERM) {
		return helperEPERM
	}
	return helperOther
}

func helperEnv(op string) []string {
	env := []string{"CHARTER_KERNEL_HELPER=" + op}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "CHARTER_KERNEL_HELPER=") {
			env = append(env, e)
		}
	}
	return env
}

// multiCall is the applet table of the multi-call binary: "sh" creates the
// file named by its argument (standing in for a shell's side effect).
func multiCall(applet string, args []string) int {
	if applet != "sh" && applet != "ls" || len(args) != 1 {
		fmt.Fprintf(os.Stderr, "multi-call: unknown applet %q %v\n", applet, args)
		return helperOther
	}
	if err := os.WriteFile(args[0], []byte(applet), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return helperOther
	}
	return helperOK
}

// udpSend sends one datagram with sendto on an unconnected socket: family
// "4" (AF_INET) or "6" (AF_INET6, which also carries v4-mapped addresses).
func udpSend(family, addr, port string) error {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	var (
		fd int
		sa unix.Sockaddr
	)
	if family == "4" {
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		sa = &unix.SockaddrInet4{Port: p, Addr: a.As4()}
	} else {
		fd, err = unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM, 0)
		sa = &unix.SockaddrInet6{Port: p, Addr: a.As16()}
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Sendto(fd, []byte("x"), 0, sa)
}

func memfdExec(src string, argv []string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	fd, err := unix.MemfdCreate("payload", 0)
	if err != nil {
		return err
	}
	if _, err := unix.Write(fd, b); err != nil {
		return err
	}
	return unix.Exec(fmt.Sprintf("/proc/self/fd/%d", fd), argv, os.Environ())
}

func execveatPath(path string, argv []string, unlink bool) error {
	fd, err := unix.Open(path, unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	if unlink {
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, err := syscall.SlicePtrFromStrings(os.Environ())
	if err != nil {
		return err
	}
	empty, err := unix.BytePtrFromString("")
	if err != nil {
		return err
	}
	_, _, errno := unix.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(empty)),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return errno
}
