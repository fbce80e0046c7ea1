package agent

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
)

// Mode is what the kernel does on a deny rule.
type Mode uint32

const (
	// ModeMonitor reports deny rule matches and lets the operation go on.
	ModeMonitor Mode = 0
	// ModeEnforce kills denied execs and refuses denied connects (and, on the
	// LSM path, opens).
	ModeEnforce Mode = 1
)

// ParseMode reads "monitor" or "enforce".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "monitor":
		return ModeMonitor, nil
	case "enforce":
		return ModeEnforce, nil
	}
	return 0, fmt.Errorf("mode %q: want monitor or enforce", s)
}

func (m Mode) String() string {
	if m == ModeEnforce {
		return "enforce"
	}
	return "monitor"
}

// ErrKernelClosed is returned by Kernel methods after Close.
var ErrKernelClosed = errors.New("agent kernel programs are closed")

func (k *Kernel) writeConfig(m Mode) error {
	if k.maps.Settings == nil {
		return ErrKernelClosed
	}
	cfg := charterAgentConfig{Mode: uint32(m), AgentTgid: uint32(os.Getpid())}
	if err := k.maps.Settings.Put(uint32(0), cfg); err != nil {
		return fmt.Errorf("write agent config: %w", err)
	}
	return nil
}

// SetMode switches between monitor and enforce in place.
func (k *Kernel) SetMode(m Mode) error { return k.writeConfig(m) }

// SetScope replaces the set of cgroup v2 ids the programs act in. Their
// descendants are in scope too.
func (k *Kernel) SetScope(ids []uint64) error {
	if k.maps.Scope == nil {
		return ErrKernelClosed
	}
	want := make(map[uint64]uint8, len(ids))
	for _, id := range ids {
		want[id] = 1
	}
	if err := syncMap(k.maps.Scope, want); err != nil {
		return fmt.Errorf("update scope map: %w", err)
	}
	return nil
}

// Exemption exempts a cgroup and its descendants (a pod) from one rule
// (1-based, as the rule set given to SetRules numbers them).
type Exemption struct {
	CgroupID uint64
	Rule     uint32
}

// SetExemptions replaces the set of break-glass exemptions in place: the
// new ones are added before the stale ones are removed.
func (k *Kernel) SetExemptions(list []Exemption) error {
	if k.maps.Exempt == nil {
		return ErrKernelClosed
	}
	want := make(map[charterExemptKey]uint8, len(list))
	for _, e := range list {
		want[charterExemptKey{CgroupId: e.CgroupID, Rule: e.Rule}] = 1
	}
	if err := syncMap(k.maps.Exempt, want); err != nil {
		return fmt.Errorf("update exempt map: %w", err)
	}
	return nil
}

// SetRules replaces the rule map contents with e, in place, in three steps
// so that no exec or connect is judged by a half-written rule set: every
// map's new entries are added or updated, then the policy (fileless rule,
// allow-list masks) is written, then stale entries are removed.
func (k *Kernel) SetRules(e *Entries) error {
	if k.maps.ExecDeny == nil {
		return ErrKernelClosed
	}
	m := k.maps
	syncs := []func() (func() error, error){
		syncer("exec_deny", m.ExecDeny, e.Exec),
		syncer("exec_deny_ident", m.ExecDenyIdent, e.ExecDenyIdent),
		syncer("exec_allow_ident", m.ExecAllowIdent, e.ExecAllowIdent),
		syncer("exec_allow_path", m.ExecAllowPath, e.ExecAllowPath),
		syncer("open_write_deny", m.OpenWriteDeny, e.OpenWrite),
		syncer("open_read_deny", m.OpenReadDeny, e.OpenRead),
		syncer("net_port", m.NetPort, e.NetPort),
		syncer("net_any", m.NetAny, e.NetAny),
		syncer("net_allow_port", m.NetAllowPort, e.NetAllowPort),
		syncer("net_allow_any", m.NetAllowAny, e.NetAllowAny),
		syncer("resolved_mntns", m.ResolvedMntns, e.MntNS),
	}
	var prunes []func() error
	for _, s := range syncs {
		prune, err := s()
		if err != nil {
			return err
		}
		prunes = append(prunes, prune)
	}
	if err := m.Policy.Put(uint32(0), e.Policy); err != nil {
		return fmt.Errorf("update policy map: %w", err)
	}
	var errs []error
	for _, p := range prunes {
		errs = append(errs, p())
	}
	return errors.Join(errs...)
}

// syncer returns a step that adds or updates want's entries in m and
// returns the step that removes m's other entries.
func syncer[K comparable, V any](name string, m *ebpf.Map, want map[K]V) func() (func() error, error) {
	return func() (func() error, error) {
		var (
			k     K
			v     V
			stale []K
		)
		it := m.Iterate()
		for it.Next(&k, &v) {
			if _, ok := want[k]; !ok {
				stale = append(stale, k)
			}
		}
		if err := it.Err(); err != nil {
			return nil, fmt.Errorf("update %s map: %w", name, err)
		}
		for k, v := range want {
			if err := m.Put(k, v); err != nil {
				return nil, fmt.Errorf("update %s map: %w", name, err)
			}
		}
		return func() error {
			for _, k := range stale {
				if err := m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
					return fmt.Errorf("update %s map: %w", name, err)
				}
			}
			return nil
		}, nil
	}
}

func syncMap[K comparable, V any](m *ebpf.Map, want map[K]V) error {
	prune, err := syncer("", m, want)()
	if err != nil {
		return err
	}
	return prune()
}

// LostEvents is how many events the kernel dropped because the ring buffer
// was full, summed over CPUs.
func (k *Kernel) LostEvents() (uint64, error) {
	if k.maps.Counters == nil {
		return 0, ErrKernelClosed
	}
	var per []uint64
	if err := k.maps.Counters.Lookup(uint32(0), &per); err != nil {
		return 0, fmt.Errorf("read lost event counter: %w", err)
	}
	var sum uint64
	for _, v := range per {
		sum += v
	}
	return sum, nil
}
