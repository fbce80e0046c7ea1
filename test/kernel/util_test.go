package kernel

import (
	"os/exec"
	"strconv"
)

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func itoa(i int) string { return strconv.Itoa(i) }
