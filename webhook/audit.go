package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

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

// JSONLines writes each record as one JSON line. Writes are serialised, and
// each record is a single Write call, so lines never interleave.
type JSONLines struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
}

// NewJSONLines writes records to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// OpenJSONLines appends records to the file at path ("-" is standard output).
func OpenJSONLines(path string) (*JSONLines, error) {
	if path == "-" {
		return NewJSONLines(os.Stdout), nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &JSONLines{w: f, closer: f}, nil
}

// Record appends r as one line.
func (j *JSONLines) Record(_ context.Context, r AuditRecord) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode audit record: %w", err)
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(line); err != nil {
		return fmt.Errorf("write audit record: %w", err)
	}
	return nil
}

// Close closes the underlying file, if JSONLines opened it.
func (j *JSONLines) Close() error {
	if j.closer == nil {
		return nil
	}
	return j.closer.Close()
}
