package charter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Runtime is the runtime part of an article: what the node agent enforces in
// the kernel. It is carried unchanged into the bundle's data (data.charter.info.runtime).
type Runtime struct {
	Exec    *ExecRule    `json:"exec,omitempty"`
	Connect *ConnectRule `json:"connect,omitempty"`
	Open    *OpenRule    `json:"open,omitempty"`
	Action  string       `json:"action"` // deny or audit
}

// ExecRule says which binaries a process in scope may execute.
//
// Deny lists absolute paths; a path ending in "/" denies every binary under
// that directory. The agent also denies every file with the identity (device
// and inode) of a listed file, so hard links and renames are caught.
//
// Allow, when set, is an allow-list: only the listed files (by identity) may
// be executed; everything else (copies, downloads, memfds, the dynamic
// loader) is denied.
//
// DenyFileless denies executing a file without a path on a filesystem: a
// memfd, a deleted file, a file on a detached mount.
type ExecRule struct {
	Deny         []string `json:"deny,omitempty"`
	Allow        []string `json:"allow,omitempty"`
	DenyFileless bool     `json:"denyFileless,omitempty"`
}

// ConnectRule says where a process in scope may connect or send datagrams.
// Entries are CIDRs with an optional port: "169.254.169.254/32",
// "10.0.0.0/8:443", "[fd00::/8]:53". Deny refuses the listed targets; Allow,
// when set, refuses every target it does not list.
type ConnectRule struct {
	Deny  []string `json:"deny,omitempty"`
	Allow []string `json:"allow,omitempty"`
}

// OpenRule reports or denies opening files under the listed path prefixes.
type OpenRule struct {
	DenyWrite []string `json:"denyWrite,omitempty"`
	DenyRead  []string `json:"denyRead,omitempty"`
}

// NetTarget is a parsed ConnectRule entry. Port 0 means every port.
type NetTarget struct {
	Prefix netip.Prefix
	Port   uint16
}

// ParseNetTarget parses "CIDR", "CIDR:port" or "[CIDR]:port". A bare address
// is taken as a single-host prefix.
func ParseNetTarget(s string) (NetTarget, error) {
	cidr, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return NetTarget{}, fmt.Errorf("%q: missing ]", s)
		}
		cidr = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return NetTarget{}, fmt.Errorf("%q: expected :port after ]", s)
			}
			port = rest[1:]
		}
	case strings.Count(s, ":") == 1:
		cidr, port, _ = strings.Cut(s, ":")
	}
	var t NetTarget
	var err error
	if strings.Contains(cidr, "/") {
		t.Prefix, err = netip.ParsePrefix(cidr)
	} else {
		var a netip.Addr
		a, err = netip.ParseAddr(cidr)
		if err == nil {
			t.Prefix = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		return NetTarget{}, fmt.Errorf("%q is not a CIDR or address", cidr)
	}
	if t.Prefix != t.Prefix.Masked() {
		return NetTarget{}, fmt.Errorf("%q has host bits set; did you mean %s?", cidr, t.Prefix.Masked())
	}
	if port != "" {
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return NetTarget{}, fmt.Errorf("%q: port must be 1-65535", s)
		}
		t.Port = uint16(p)
	}
	return t, nil
}
