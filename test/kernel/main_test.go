package kernel

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The test binary doubles as the workload: with CHARTER_KERNEL_HELPER set it
// performs one operation and exits, so the operation happens in whatever
// cgroup the test started it in.
func TestMain(m *testing.M) {
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
	case "open-loop": // FILE N: N opens, for the event throughput benchmark
		n, _ := strconv.Atoi(args[1])
		for i := 0; i < n && err == nil; i++ {
			var f *os.File
			if f, err = os.Open(args[0]); err == nil {
				f.Close()
			}
		}
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
