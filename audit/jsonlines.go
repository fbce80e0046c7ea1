package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
)

// FileMode is the mode of a new audit log: decisions name users and objects.
const FileMode = 0o600

// JSONLines appends each record as one JSON line. Writes are serialised and
// each record is a single Write call, so lines never interleave.
type JSONLines struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
}

// New writes records to w.
func New(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// Open appends records to the file at path, creating it with FileMode;
// "-" is standard output.
func Open(path string) (*JSONLines, error) {
	if path == "-" {
		return New(os.Stdout), nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, FileMode)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &JSONLines{w: f, closer: f}, nil
}

// Append writes v as one line.
func (j *JSONLines) Append(v any) error {
	line, err := json.Marshal(v)
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

// Close closes the file, if Open opened one.
func (j *JSONLines) Close() error {
	if j.closer == nil {
		return nil
	}
	return j.closer.Close()
}
