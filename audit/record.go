package audit

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Schema names the version of the record format; it is the first field of
// every record so a reader can tell formats apart.
const Schema = "charter.dev/audit/v1"

// Header holds the fields every record carries, whichever enforcement point
// wrote it. Enforcement points embed it in their own JSON-tagged record type,
// so its fields sit at the top level of each JSON line.
type Header struct {
	Schema string    `json:"schema"`
	Time   time.Time `json:"time"`
	// Source is the enforcement point: webhook, agent or eval.
	Source string `json:"source"`
	Bundle Bundle `json:"bundle"`
	// Decision is what was enforced: allowed, denied or skipped at
	// admission and in CI; audit, monitor or denied at runtime.
	Decision string    `json:"decision"`
	Articles []Article `json:"articles"`
	// Override is the id of the override that changed the decision (ids,
	// comma-separated, when several lifted denials); empty when none applied. The field is always present so a reader can tell
	// "no override" from an older format.
	Override string `json:"override"`
}

func (h *Header) auditHeader() *Header { return h }

// Bundle identifies the policy that made a decision.
type Bundle struct {
	Revision string `json:"revision"`
	// Serial is the signed manifest's metadata.serial; 0 for an unsigned
	// bundle without one.
	Serial int64 `json:"serial"`
}

// Article is one article that applied to the decision.
type Article struct {
	ID       string `json:"article"`
	Title    string `json:"title,omitempty"`
	Action   string `json:"action,omitempty"`
	Severity string `json:"severity,omitempty"`
	Message  string `json:"message,omitempty"`
	Path     string `json:"path,omitempty"`
	// Override is the id of the override that lifted this denial.
	Override string `json:"override,omitempty"`
}

// Entry is a record type: any struct that embeds Header.
type Entry interface{ auditHeader() *Header }

// Sink is the one audit interface of every enforcement point (webhook, agent,
// eval). Append returns once the record is in the log; how durable that is
// depends on the sink (see Log).
type Sink interface {
	Append(ctx context.Context, e Entry) error
}

// Discard is a Sink that keeps nothing.
var Discard Sink = discard{}

type discard struct{}

func (discard) Append(context.Context, Entry) error { return nil }

// BundleOf reads the bundle's identity from its revision and the metadata of
// its .manifest (metadata.serial, written by bundle signing).
func BundleOf(revision string, metadata map[string]any) Bundle {
	b := Bundle{Revision: revision}
	switch s := metadata["serial"].(type) {
	case float64:
		if s == math.Trunc(s) && math.Abs(s) < 1<<53 {
			b.Serial = int64(s)
		}
	case int64:
		b.Serial = s
	case int:
		b.Serial = int64(s)
	case json.Number:
		b.Serial, _ = strconv.ParseInt(string(s), 10, 64)
	}
	return b
}

// encode marshals e as one JSON line (without the newline), stamping the
// schema.
func encode(e Entry) ([]byte, error) {
	h := e.auditHeader()
	h.Schema = Schema
	if h.Time.IsZero() {
		h.Time = time.Now().UTC()
	}
	if h.Articles == nil {
		h.Articles = []Article{}
	}
	return json.Marshal(e)
}
