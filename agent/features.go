package agent

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
)

// MissingFeature names the first kernel feature the fallback hook path needs
// and this kernel lacks, or returns "" when all are there. Other load errors
// are bugs, not missing features, and must not be hidden behind it.
func MissingFeature() string {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return "kernel BTF (/sys/kernel/btf/vmlinux)"
	}
	if _, err := CgroupV2Mount(); err != nil {
		return "a mounted cgroup v2 hierarchy"
	}
	checks := []struct {
		name string
		err  error
	}{
		{"BPF ring buffer maps", features.HaveMapType(ebpf.RingBuf)},
		{"BPF LPM trie maps", features.HaveMapType(ebpf.LPMTrie)},
		{"BPF tp_btf programs (sched_process_exec)", probeTpBtf()},
		{"BPF tracepoint programs", features.HaveProgramType(ebpf.TracePoint)},
		{"BPF cgroup sock_addr programs", features.HaveProgramType(ebpf.CGroupSockAddr)},
		{"bpf_send_signal", features.HaveProgramHelper(ebpf.TracePoint, asm.FnSendSignal)},
		{"bpf_get_current_ancestor_cgroup_id", features.HaveProgramHelper(ebpf.TracePoint, asm.FnGetCurrentAncestorCgroupId)},
	}
	for _, c := range checks {
		if errors.Is(c.err, ebpf.ErrNotSupported) {
			return c.name
		}
		if c.err != nil {
			return fmt.Sprintf("%s (probe failed: %v)", c.name, c.err)
		}
	}
	return ""
}

// probeTpBtf loads a do-nothing tp_btf program: the generic probe of the
// tracing program type tries fentry, which kernels may refuse on their own.
func probeTpBtf() error {
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.Tracing,
		AttachType:   ebpf.AttachTraceRawTp,
		AttachTo:     "sched_process_exec",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		License:      "GPL",
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ebpf.ErrNotSupported, err)
	}
	return p.Close()
}
