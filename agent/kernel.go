package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// HookPath says which set of programs enforces the rules.
type HookPath string

const (
	// HookLSM: BPF LSM programs refuse exec, open and connect with EPERM.
	HookLSM HookPath = "lsm"
	// HookTracepoint: tp_btf/sched_process_exec kills a denied image with
	// SIGKILL before it runs, cgroup connect4/connect6 refuse connects with
	// EPERM, and the sys_enter_openat tracepoint reports opens.
	HookTracepoint HookPath = "tracepoint"
)

// HookDescription names the programs of a hook path, for logs and test output.
func (h HookPath) Description() string {
	if h == HookLSM {
		return "lsm: bprm_check_security + file_open + socket_connect + socket_sendmsg (EPERM)"
	}
	return "tracepoint: tp_btf/sched_process_exec + bpf_send_signal(SIGKILL), cgroup/connect4+connect6+sendmsg4+sendmsg6 (EPERM), tracepoint/syscalls/sys_enter_openat (report only)"
}

// KernelOptions configure LoadKernel.
type KernelOptions struct {
	// Hooks is "auto" (LSM when the kernel allows it, else tracepoints),
	// "lsm" or "tracepoint". Empty means auto.
	Hooks string
	// CgroupRoot is the cgroup v2 directory the connect programs attach to;
	// the scope map narrows them. Empty means the cgroup v2 mount.
	CgroupRoot string
	// RingBytes sizes the event ring buffer: a power of two multiple of the
	// page size. Zero means DefaultRingBytes.
	RingBytes uint32
	Logger    *slog.Logger
}

// DefaultRingBytes is the default event ring buffer size: room for about
// 9000 events in flight, so bursts ride out reader scheduling delays.
const DefaultRingBytes = 4 << 20

// Kernel holds the loaded maps and attached programs. Rules, scope and mode
// are changed through its maps while the programs stay attached.
type Kernel struct {
	maps     charterMaps
	programs []*ebpf.Program
	links    []link.Link
	hook     HookPath
	cgroupV2 string
}

type lsmPrograms struct {
	ExecLsm    *ebpf.Program `ebpf:"exec_lsm"`
	OpenLsm    *ebpf.Program `ebpf:"open_lsm"`
	ConnectLsm *ebpf.Program `ebpf:"connect_lsm"`
	SendmsgLsm *ebpf.Program `ebpf:"sendmsg_lsm"`
}

type fallbackPrograms struct {
	ExecTp   *ebpf.Program `ebpf:"exec_tp"`
	OpenatTp *ebpf.Program `ebpf:"openat_tp"`
	Connect4 *ebpf.Program `ebpf:"connect4"`
	Connect6 *ebpf.Program `ebpf:"connect6"`
	Sendmsg4 *ebpf.Program `ebpf:"sendmsg4"`
	Sendmsg6 *ebpf.Program `ebpf:"sendmsg6"`
}

// LoadKernel loads the maps, then the LSM programs if the kernel takes them,
// else the tracepoint and cgroup programs, and attaches them. The agent starts
// in monitor mode with no rules and an empty scope: nothing is acted upon
// until SetScope and SetRules are called.
func LoadKernel(opts KernelOptions) (_ *Kernel, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock limit: %w", err)
	}
	spec, err := loadCharter()
	if err != nil {
		return nil, fmt.Errorf("load bpf spec: %w", err)
	}
	ring := opts.RingBytes
	if ring == 0 {
		ring = DefaultRingBytes
	}
	spec.Maps[charterMapEvents].MaxEntries = ring
	k := &Kernel{}
	defer func() {
		if err != nil {
			k.Close()
		}
	}()
	if err := spec.LoadAndAssign(&k.maps, nil); err != nil {
		return nil, fmt.Errorf("load maps: %w", err)
	}
	if err := k.writeConfig(ModeMonitor); err != nil {
		return nil, err
	}
	k.cgroupV2 = opts.CgroupRoot
	if k.cgroupV2 == "" {
		if k.cgroupV2, err = CgroupV2Mount(); err != nil {
			return nil, err
		}
	}
	replace := k.mapReplacements()
	switch opts.Hooks {
	case "", "auto", string(HookLSM):
		lerr := k.loadLSM(spec, replace)
		if lerr == nil {
			log.Info("agent hook path", "path", HookLSM, "programs", HookLSM.Description())
			return k, nil
		}
		if opts.Hooks == string(HookLSM) {
			return nil, lerr
		}
		log.Info("BPF LSM unavailable, using fallback hooks", "reason", lerr.Error())
	case string(HookTracepoint):
	default:
		return nil, fmt.Errorf("unknown hook path %q (want auto, lsm or tracepoint)", opts.Hooks)
	}
	if err := k.loadFallback(spec, replace); err != nil {
		return nil, err
	}
	log.Info("agent hook path", "path", HookTracepoint, "programs", HookTracepoint.Description())
	return k, nil
}

// Hook is the hook path in use.
func (k *Kernel) Hook() HookPath { return k.hook }

func (k *Kernel) mapReplacements() map[string]*ebpf.Map {
	m := k.maps
	return map[string]*ebpf.Map{
		charterMapCounters: m.Counters, charterMapEvents: m.Events, charterMapExecDeny: m.ExecDeny,
		charterMapNetAny: m.NetAny, charterMapNetPort: m.NetPort, charterMapOpenReadDeny: m.OpenReadDeny,
		charterMapOpenWriteDeny: m.OpenWriteDeny, charterMapScope: m.Scope, charterMapScratch: m.Scratch,
		charterMapSettings: m.Settings, charterMapExecDenyIdent: m.ExecDenyIdent, charterMapExecAllowIdent: m.ExecAllowIdent,
		charterMapExecAllowPath: m.ExecAllowPath, charterMapNetAllowPort: m.NetAllowPort, charterMapNetAllowAny: m.NetAllowAny,
		charterMapResolvedMntns: m.ResolvedMntns, charterMapPolicy: m.Policy, charterMapExempt: m.Exempt,
	}
}

// loadLSM is the feature probe: the LSM programs must load, BPF must be an
// active LSM (else attached programs would never run), and they must attach.
func (k *Kernel) loadLSM(spec *ebpf.CollectionSpec, replace map[string]*ebpf.Map) error {
	var p lsmPrograms
	if err := spec.LoadAndAssign(&p, &ebpf.CollectionOptions{MapReplacements: replace}); err != nil {
		return fmt.Errorf("load lsm programs: %w", err)
	}
	progs := []*ebpf.Program{p.ExecLsm, p.OpenLsm, p.ConnectLsm, p.SendmsgLsm}
	fail := func(err error) error {
		for _, l := range k.links {
			l.Close()
		}
		k.links = nil
		for _, p := range progs {
			p.Close()
		}
		return err
	}
	if ok, err := bpfLSMActive(); !ok {
		return fail(err)
	}
	for _, p := range progs {
		l, err := link.AttachLSM(link.LSMOptions{Program: p})
		if err != nil {
			return fail(fmt.Errorf("attach lsm program %s: %w", p, err))
		}
		k.links = append(k.links, l)
	}
	k.programs = append(k.programs, progs...)
	k.hook = HookLSM
	return nil
}

func bpfLSMActive() (bool, error) {
	b, err := os.ReadFile("/sys/kernel/security/lsm")
	if err != nil {
		return false, fmt.Errorf("read active LSMs: %w", err)
	}
	for _, name := range splitComma(string(b)) {
		if name == "bpf" {
			return true, nil
		}
	}
	return false, fmt.Errorf("bpf is not an active LSM (%s)", b)
}

func (k *Kernel) loadFallback(spec *ebpf.CollectionSpec, replace map[string]*ebpf.Map) error {
	var p fallbackPrograms
	if err := spec.LoadAndAssign(&p, &ebpf.CollectionOptions{MapReplacements: replace}); err != nil {
		return fmt.Errorf("load tracepoint programs: %w", err)
	}
	k.programs = append(k.programs, p.ExecTp, p.OpenatTp, p.Connect4, p.Connect6, p.Sendmsg4, p.Sendmsg6)
	l, err := link.AttachTracing(link.TracingOptions{Program: p.ExecTp})
	if err != nil {
		return fmt.Errorf("attach exec program: %w", err)
	}
	k.links = append(k.links, l)
	if err := EnsureTracefs(); err != nil {
		return err
	}
	l, err = link.Tracepoint("syscalls", "sys_enter_openat", p.OpenatTp, nil)
	if err != nil {
		return fmt.Errorf("attach open program: %w", err)
	}
	k.links = append(k.links, l)
	for _, c := range []struct {
		prog   *ebpf.Program
		attach ebpf.AttachType
	}{
		{p.Connect4, ebpf.AttachCGroupInet4Connect}, {p.Connect6, ebpf.AttachCGroupInet6Connect},
		{p.Sendmsg4, ebpf.AttachCGroupUDP4Sendmsg}, {p.Sendmsg6, ebpf.AttachCGroupUDP6Sendmsg},
	} {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: k.cgroupV2, Attach: c.attach, Program: c.prog})
		if err != nil {
			return fmt.Errorf("attach %s program to %s: %w", c.attach, k.cgroupV2, err)
		}
		k.links = append(k.links, l)
	}
	k.hook = HookTracepoint
	return nil
}

// Close detaches every program and frees the maps. It is safe to call twice.
func (k *Kernel) Close() error {
	var errs []error
	for _, l := range k.links {
		errs = append(errs, l.Close())
	}
	k.links = nil
	for _, p := range k.programs {
		errs = append(errs, p.Close())
	}
	k.programs = nil
	errs = append(errs, k.maps.Close())
	k.maps = charterMaps{}
	return errors.Join(errs...)
}
