package kernel

import (
	"net"
	"os/exec"
	"strconv"
)

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func itoa(i int) string { return strconv.Itoa(i) }
