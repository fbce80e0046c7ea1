package audit

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// FileMode is the mode of every file of an audit log: decisions name users
// and objects.
const FileMode = 0o600

// JSONLines writes records as JSON lines to a stream (standard output, a
// pipe to a log shipper) with no tree and no durability: the tamper-evident
// log is Log.
type JSONLines struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONLines writes records to w. Each record is a single Write call, so
// lines never interleave.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// Append writes e as one line.
func (j *JSONLines) Append(_ context.Context, e Entry) error {
	line, err := encode(e)
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
