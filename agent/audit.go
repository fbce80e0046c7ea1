package agent

import (
	"io"
	"time"

	"github.com/charter-dev/charter/audit"
)

// AuditRecord is one kernel decision as the audit log keeps it.
type AuditRecord struct {
	Time     time.Time `json:"time"`
	Source   string    `json:"source"` // always "agent"
	Node     string    `json:"node,omitempty"`
	Article  string    `json:"article"`
	Title    string    `json:"title,omitempty"`
	Severity string    `json:"severity,omitempty"`
	Action   string    `json:"action,omitempty"`   // the article's action, as the engine decided it
	Message  string    `json:"message,omitempty"`  // the engine's message
	Findings []string  `json:"findings,omitempty"` // every article the engine found for the event
	Kind     string    `json:"kind"`               // exec, connect, open
	Verdict  string    `json:"verdict"`            // audit, monitor, denied
	Mode     string    `json:"mode"`
	Hook     string    `json:"hook"`
	PID      uint32    `json:"pid"`
	PPID     uint32    `json:"ppid"`
	UID      uint32    `json:"uid"`
	Comm     string    `json:"comm"`
	Path     string    `json:"path,omitempty"`
	Args     []string  `json:"args,omitempty"`
	Write    bool      `json:"write,omitempty"`
	Dest     string    `json:"dest,omitempty"`
	CgroupID uint64    `json:"cgroupID"`
	Cgroup   string    `json:"cgroup,omitempty"`
	Workload
}

// Auditor stores audit records. The JSON lines writer is the simplest one; a
// tamper-evident log implements the same method.
type Auditor interface {
	Audit(AuditRecord) error
}

// JSONLines is the audit package's JSON-lines log as an Auditor.
type JSONLines struct{ log *audit.JSONLines }

// NewJSONLines writes records to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{log: audit.New(w)} }

// OpenJSONLines appends records to the file at path.
func OpenJSONLines(path string) (*JSONLines, error) {
	l, err := audit.Open(path)
	if err != nil {
		return nil, err
	}
	return &JSONLines{log: l}, nil
}

// Audit writes r as one line.
func (j *JSONLines) Audit(r AuditRecord) error { return j.log.Append(r) }

// Close closes the file, if OpenJSONLines opened one.
func (j *JSONLines) Close() error { return j.log.Close() }
