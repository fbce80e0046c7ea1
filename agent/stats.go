package agent

import (
	"fmt"
	"io"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ProgramStats is the kernel's own accounting of one program: how often it
// ran and how long it took in total. It is counted only while stats are on.
type ProgramStats struct {
	Name     string
	RunCount uint64
	Runtime  time.Duration
}

// PerRun is the mean time of one run.
func (s ProgramStats) PerRun() time.Duration {
	if s.RunCount == 0 {
		return 0
	}
	return s.Runtime / time.Duration(s.RunCount)
}

// EnableStats turns on the kernel's run time accounting of BPF programs
// (system wide, it costs a little) until the returned Closer is closed.
func EnableStats() (io.Closer, error) {
	c, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		return nil, fmt.Errorf("enable bpf stats: %w", err)
	}
	return c, nil
}

// Stats reads the run time accounting of the attached programs.
func (k *Kernel) Stats() ([]ProgramStats, error) {
	var out []ProgramStats
	for _, p := range k.programs {
		s, err := p.Stats()
		if err != nil {
			return nil, fmt.Errorf("read program stats: %w", err)
		}
		info, err := p.Info()
		if err != nil {
			return nil, fmt.Errorf("read program info: %w", err)
		}
		out = append(out, ProgramStats{Name: info.Name, RunCount: s.RunCount, Runtime: s.Runtime})
	}
	return out, nil
}
