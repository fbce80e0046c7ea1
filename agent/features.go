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
// and this kernel lacks, or returns "" when all are there. A probe that fails
// for another reason than "not supported" is returned as an error: that is a
// bug or a broken environment, not a missing feature, and must not be hidden
// behind a skip.
func MissingFeature() (string, error) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return "kernel BTF (/sys/kernel/btf/vmlinux)", nil
	}
	if _, err := CgroupV2Mount(); err != nil {
		return "a mounted cgroup v2 hierarchy", nil
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
			return c.name, nil
		}
		if c.err != nil {
			return "", fmt.Errorf("probe %s: %w", c.name, c.err)
		}
	}
	return "", nil
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
