package bench

import (
	"os"
	"strings"
	"syscall"
	"time"
)

// CPUTime is the CPU time (user + system) this process used so far: on
// shared machines it says more about the work done than wall time does.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// LoadAverage is the machine's 1, 5 and 15 minute load averages, "unknown"
// where /proc/loadavg does not say: timings are only comparable between runs
// on an equally idle machine.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
