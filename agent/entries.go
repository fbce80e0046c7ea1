package agent

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/charter-dev/charter/charter"
)

// Rule actions as the kernel programs read them (enum rule_action in bpf/common.h).
const (
	actionDeny  = 1
	actionAudit = 2
)

// pathLen is the longest path the kernel side matches, NUL included.
const pathLen = 256

// Entries are the contents of the rule maps for one rule set. Rule numbers in
// the values are 1-based indexes into the rule slice they came from.
type Entries struct {
	Exec      map[charterPathKey]charterRuleRef
	OpenWrite map[charterPathKey]charterRuleRef
	OpenRead  map[charterPathKey]charterRuleRef
	NetPort   map[charterNetKey]charterRuleRef
	NetAny    map[charterNetKey]charterRuleRef
}

// Compile turns rules into map entries. When two rules name the same path or
// target, the first one wins, and a deny beats an audit.
func Compile(rules []Rule) (*Entries, error) {
	e := &Entries{
		Exec:      map[charterPathKey]charterRuleRef{},
		OpenWrite: map[charterPathKey]charterRuleRef{},
		OpenRead:  map[charterPathKey]charterRuleRef{},
		NetPort:   map[charterNetKey]charterRuleRef{},
		NetAny:    map[charterNetKey]charterRuleRef{},
	}
	for i, r := range rules {
		ref := charterRuleRef{Rule: uint32(i + 1), Action: actionDeny}
		if r.Runtime.Action == charter.ActionAudit {
			ref.Action = actionAudit
		}
		rt := r.Runtime
		if rt.Exec != nil {
			if err := addPaths(e.Exec, rt.Exec.Deny, ref); err != nil {
				return nil, fmt.Errorf("rule %s: exec: %w", r.Article, err)
			}
		}
		if rt.Open != nil {
			if err := addPaths(e.OpenWrite, rt.Open.DenyWrite, ref); err != nil {
				return nil, fmt.Errorf("rule %s: open: %w", r.Article, err)
			}
			if err := addPaths(e.OpenRead, rt.Open.DenyRead, ref); err != nil {
				return nil, fmt.Errorf("rule %s: open: %w", r.Article, err)
			}
		}
		if rt.Connect != nil {
			for _, s := range rt.Connect.Deny {
				t, err := charter.ParseNetTarget(s)
				if err != nil {
					return nil, fmt.Errorf("rule %s: connect: %w", r.Article, err)
				}
				k := NetKey(t)
				if t.Port == 0 {
					put(e.NetAny, k, ref)
				} else {
					put(e.NetPort, k, ref)
				}
			}
		}
	}
	return e, nil
}

func put[K comparable](m map[K]charterRuleRef, k K, ref charterRuleRef) {
	old, ok := m[k]
	if !ok || (old.Action == actionAudit && ref.Action == actionDeny) {
		m[k] = ref
	}
}

// addPaths adds a path rule: "/dir/" covers everything below dir; "/file"
// covers the file itself and, should it be a directory, everything below it.
func addPaths(m map[charterPathKey]charterRuleRef, paths []string, ref charterRuleRef) error {
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") || len(p) >= pathLen {
			return fmt.Errorf("%q must be an absolute path shorter than %d bytes", p, pathLen)
		}
		if strings.HasSuffix(p, "/") {
			put(m, PathKey(p, false), ref)
			continue
		}
		put(m, PathKey(p, true), ref)
		if len(p)+1 < pathLen {
			put(m, PathKey(p+"/", false), ref)
		}
	}
	return nil
}

// PathKey is the LPM key for a path. An exact key covers the terminating NUL,
// so it matches only that path; a prefix key matches every path starting with p.
func PathKey(p string, exact bool) charterPathKey {
	var k charterPathKey
	n := min(len(p), pathLen-1)
	for i := range n {
		k.Path[i] = int8(p[i])
	}
	bits := n * 8
	if exact && n < pathLen {
		bits += 8 // the NUL, already zero
	}
	k.Prefixlen = uint32(bits)
	return k
}

// NetKey is the LPM key for a connect target. IPv4 prefixes are stored
// v4-mapped, so connect4 and IPv4 destinations of dual-stack IPv6 sockets
// match the same entries.
func NetKey(t charter.NetTarget) charterNetKey {
	addr := t.Prefix.Addr()
	bits := t.Prefix.Bits()
	if addr.Is4() {
		addr = netip.AddrFrom16(addr.As16())
		bits += 96
	}
	k := charterNetKey{Prefixlen: uint32(16 + bits), Addr: addr.As16()}
	k.Port = hton16(t.Port)
	return k
}

// hton16 stores a port the way the kernel hands it to the programs: network
// order, read as a u16 on a little-endian host (the objects are bpfel only).
func hton16(p uint16) uint16 { return p<<8 | p>>8 }
