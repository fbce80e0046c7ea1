package webhook

import (
	"context"
	"io"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/engine"
)

// AuditRecord is one admission decision as the audit log keeps it.
type AuditRecord struct {
	Time      time.Time `json:"time"`
	UID       string    `json:"uid"`
	User      string    `json:"user"`
	Operation string    `json:"operation"`
	Object    ObjectRef `json:"object"`
	Revision  string    `json:"bundleRevision,omitempty"`
	// Decision is allowed or denied: what the apiserver was told.
	Decision string `json:"decision"`
	// Evaluated is false when the request was admitted without asking the
	// policy (excluded namespace, DELETE, CONNECT) or no decision was made.
	Evaluated bool             `json:"evaluated"`
	Reason    string           `json:"reason,omitempty"`
	Articles  []engine.Finding `json:"articles,omitempty"`
	DryRun    bool             `json:"dryRun"`
}

// ObjectRef names the object a request is about.
type ObjectRef struct {
	Group       string `json:"group,omitempty"`
	Version     string `json:"version"`
	Kind        string `json:"kind"`
	Resource    string `json:"resource,omitempty"`
	SubResource string `json:"subResource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
}

// AuditSink records decisions. A failure to record is counted and logged but
// never changes the decision: the apiserver has a deadline to meet.
type AuditSink interface {
	Record(ctx context.Context, r AuditRecord) error
}

// Discard is an AuditSink that keeps nothing.
var Discard AuditSink = discard{}

type discard struct{}

func (discard) Record(context.Context, AuditRecord) error { return nil }

// JSONLines is the audit package's JSON-lines log as an AuditSink.
type JSONLines struct{ log *audit.JSONLines }

// NewJSONLines writes records to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{log: audit.New(w)} }

// OpenJSONLines appends records to the file at path ("-" is standard output).
func OpenJSONLines(path string) (*JSONLines, error) {
	l, err := audit.Open(path)
	if err != nil {
		return nil, err
	}
	return &JSONLines{log: l}, nil
}

// Record appends r as one line.
func (j *JSONLines) Record(_ context.Context, r AuditRecord) error { return j.log.Append(r) }

// Close closes the file, if OpenJSONLines opened one.
func (j *JSONLines) Close() error { return j.log.Close() }
