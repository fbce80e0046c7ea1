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

// SetRules replaces the rule map contents with e, in place: entries are
// added or updated first, then stale ones removed.
func (k *Kernel) SetRules(e *Entries) error {
	if k.maps.ExecDeny == nil {
		return ErrKernelClosed
	}
	m := k.maps
	return errors.Join(
		wrap("exec_deny", syncMap(m.ExecDeny, e.Exec)),
		wrap("open_write_deny", syncMap(m.OpenWriteDeny, e.OpenWrite)),
		wrap("open_read_deny", syncMap(m.OpenReadDeny, e.OpenRead)),
		wrap("net_port", syncMap(m.NetPort, e.NetPort)),
		wrap("net_any", syncMap(m.NetAny, e.NetAny)),
	)
}

func wrap(name string, err error) error {
	if err != nil {
		return fmt.Errorf("update %s map: %w", name, err)
	}
	return nil
}

func syncMap[K comparable, V any](m *ebpf.Map, want map[K]V) error {
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
		return err
	}
	for k, v := range want {
		if err := m.Put(k, v); err != nil {
			return err
		}
	}
	for _, k := range stale {
		if err := m.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return err
		}
	}
	return nil
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
