package agent

import (
	"github.com/charter-dev/charter/audit"
)

// AuditRecord is one kernel decision as the audit log keeps it: the fields
// every enforcement point writes (audit.Header: time, source "agent", bundle
// revision and serial, decision = the verdict, articles, override) and the
// event.
type AuditRecord struct {
	audit.Header
	Node     string   `json:"node,omitempty"`
	Article  string   `json:"article"`
	Title    string   `json:"title,omitempty"`
	Severity string   `json:"severity,omitempty"`
	Action   string   `json:"action,omitempty"`   // the article's action, as the engine decided it
	Message  string   `json:"message,omitempty"`  // the engine's message
	Findings []string `json:"findings,omitempty"` // every article the engine found for the event
	Kind     string   `json:"kind"`               // exec, connect, open
	Verdict  string   `json:"verdict"`            // audit, monitor, denied
	Mode     string   `json:"mode"`
	Hook     string   `json:"hook"`
	Match    string   `json:"match,omitempty"`    // why the kernel matched: listed, identity, fileless, not-allowed
	Identity string   `json:"identity,omitempty"` // exec: the file's device and inode, major:minor/inode
	PID      uint32   `json:"pid"`
	PPID     uint32   `json:"ppid"`
	UID      uint32   `json:"uid"`
	Comm     string   `json:"comm"`
	Path     string   `json:"path,omitempty"`
	Args     []string `json:"args,omitempty"`
	Write    bool     `json:"write,omitempty"`
	Dest     string   `json:"dest,omitempty"`
	CgroupID uint64   `json:"cgroupID"`
	Cgroup   string   `json:"cgroup,omitempty"`
	Workload
}
