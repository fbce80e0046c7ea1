package agent

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
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

	// Identities of the exec deny and allow files, in every root given.
	ExecDenyIdent  map[charterIdent]charterRuleRef
	ExecAllowIdent map[charterIdent]uint32 // mask of allow-list articles
	// Allow-lists by path (mount namespaces the agent has not resolved yet)
	// and by destination; values are masks of allow-list articles.
	ExecAllowPath map[charterPathKey]uint32
	NetAllowPort  map[charterNetKey]uint32
	NetAllowAny   map[charterNetKey]uint32
	MntNS         map[uint32]uint8 // mount namespaces resolved
	Policy        charterRulePolicy

	// SameFile maps an identity to the rule paths resolved to it, so the
	// engine can tell a hard link of /bin/bash from another file.
	SameFile map[Ident][]string
}

// maxAllow is the number of allow-list articles per kind (MAX_ALLOW in bpf/common.h).
const maxAllow = 32

// Compile turns rules into map entries, resolving the exec rules' files to
// identities in every root. When two rules name the same path or target,
// the first one wins, and a deny beats an audit. A rule file missing from a
// root (not every container has bash) is skipped there.
func Compile(rules []Rule, roots []Root) (*Entries, error) {
	e := &Entries{
		Exec:           map[charterPathKey]charterRuleRef{},
		OpenWrite:      map[charterPathKey]charterRuleRef{},
		OpenRead:       map[charterPathKey]charterRuleRef{},
		NetPort:        map[charterNetKey]charterRuleRef{},
		NetAny:         map[charterNetKey]charterRuleRef{},
		ExecDenyIdent:  map[charterIdent]charterRuleRef{},
		ExecAllowIdent: map[charterIdent]uint32{},
		ExecAllowPath:  map[charterPathKey]uint32{},
		NetAllowPort:   map[charterNetKey]uint32{},
		NetAllowAny:    map[charterNetKey]uint32{},
		MntNS:          map[uint32]uint8{},
		SameFile:       map[Ident][]string{},
	}
	for _, r := range roots {
		e.MntNS[r.MntNS] = 1
	}
	var netAllow []netAllowEntry
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
			for _, p := range rt.Exec.Deny {
				e.resolve(p, roots, func(id charterIdent) { put(e.ExecDenyIdent, id, ref) })
			}
			if rt.Exec.DenyFileless {
				if old := e.Policy.Fileless; old.Rule == 0 || old.Action == actionAudit && ref.Action == actionDeny {
					e.Policy.Fileless = ref
				}
			}
			if len(rt.Exec.Allow) > 0 {
				bit, err := allowBit(&e.Policy.ExecAllowMask, &e.Policy.ExecAllow, ref)
				if err != nil {
					return nil, fmt.Errorf("rule %s: exec: %w", r.Article, err)
				}
				for _, p := range rt.Exec.Allow {
					if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || len(p) >= pathLen {
						return nil, fmt.Errorf("rule %s: exec: allow %q must be an absolute file path shorter than %d bytes", r.Article, p, pathLen)
					}
					e.ExecAllowPath[PathKey(p, true)] |= bit
					e.resolve(p, roots, func(id charterIdent) { e.ExecAllowIdent[id] |= bit })
				}
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
			if len(rt.Connect.Allow) > 0 {
				bit, err := allowBit(&e.Policy.NetAllowMask, &e.Policy.NetAllow, ref)
				if err != nil {
					return nil, fmt.Errorf("rule %s: connect: %w", r.Article, err)
				}
				for _, s := range rt.Connect.Allow {
					t, err := charter.ParseNetTarget(s)
					if err != nil {
						return nil, fmt.Errorf("rule %s: connect: %w", r.Article, err)
					}
					netAllow = append(netAllow, netAllowEntry{t, bit})
				}
			}
		}
	}
	e.addNetAllow(netAllow)
	return e, nil
}

// resolve adds the identity of p in every root, and remembers which rule
// paths an identity stands for.
func (e *Entries) resolve(p string, roots []Root, add func(charterIdent)) {
	if strings.HasSuffix(p, "/") {
		return
	}
	for _, root := range roots {
		id, err := root.Resolve(p)
		if err != nil {
			continue
		}
		add(charterIdent{Ino: id.Ino, Dev: id.Dev})
		if !slices.Contains(e.SameFile[id], p) {
			e.SameFile[id] = append(e.SameFile[id], p)
		}
	}
}

// allowBit gives an allow-list article its bit in mask and its rule.
func allowBit(mask *uint32, refs *[maxAllow]charterRuleRef, ref charterRuleRef) (uint32, error) {
	n := bits.OnesCount32(*mask)
	if n >= maxAllow {
		return 0, fmt.Errorf("more than %d allow-list articles", maxAllow)
	}
	refs[n] = ref
	*mask |= 1 << n
	return 1 << n, nil
}

type netAllowEntry struct {
	t   charter.NetTarget
	bit uint32
}

// addNetAllow fills the allow tries. The kernel takes the longest matching
// prefix, so each entry's mask also carries the bits of every entry (same
// port, or any port) whose prefix contains it.
func (e *Entries) addNetAllow(list []netAllowEntry) {
	for _, a := range list {
		var mask uint32
		for _, b := range list {
			if b.t.Port == a.t.Port && prefix16(b.t).Bits() <= prefix16(a.t).Bits() && prefix16(b.t).Contains(prefix16(a.t).Addr()) {
				mask |= b.bit
			}
		}
		if a.t.Port == 0 {
			e.NetAllowAny[NetKey(a.t)] |= mask
		} else {
			e.NetAllowPort[NetKey(a.t)] |= mask
		}
	}
}

// prefix16 is the prefix in IPv6 space, IPv4 v4-mapped, as the tries hold it.
func prefix16(t charter.NetTarget) netip.Prefix {
	a := t.Prefix.Addr()
	if a.Is4() {
		return netip.PrefixFrom(netip.AddrFrom16(a.As16()), t.Prefix.Bits()+96)
	}
	return t.Prefix
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
