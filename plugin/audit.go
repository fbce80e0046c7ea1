package plugin

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/engine"
	"github.com/open-policy-agent/opa/v1/plugins/logs"
)

// Source is the enforcement point named in audit records.
const Source = "opa"

// AuditRecord is one decision of data.charter.decision served by OPA, as the
// audit log keeps it: the fields every enforcement point writes
// (audit.Header) and what the caller asked about. Its fields are a wire
// format: renamed never, added only.
type AuditRecord struct {
	audit.Header
	DecisionID  string    `json:"decisionId,omitempty"`
	RequestedBy string    `json:"requestedBy,omitempty"`
	Review      bool      `json:"review"` // the input was an AdmissionReview, else a plain object
	UID         string    `json:"uid,omitempty"`
	User        string    `json:"user,omitempty"`
	Operation   string    `json:"operation"`
	Object      ObjectRef `json:"object"`
}

// ObjectRef names the object a decision is about.
type ObjectRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
}

// openAudit opens the audit sink plugins.charter.audit_log names.
func openAudit(path string, sync bool) (audit.Sink, func() error, error) {
	none := func() error { return nil }
	switch path {
	case "":
		return audit.Discard, none, nil
	case "-":
		return audit.NewJSONLines(os.Stdout), none, nil
	}
	l, err := audit.Open(path, audit.Options{Sync: sync, MinSyncInterval: audit.DefaultMinSyncInterval})
	if err != nil {
		return nil, none, err
	}
	return l, l.Close, nil
}

// record builds the audit record of decision d on input.
func record(input any, d engine.Decision, b audit.Bundle, at time.Time, decisionID, remote string) *AuditRecord {
	r := &AuditRecord{
		Header: audit.Header{
			Time: at.UTC(), Source: Source, Bundle: b, Decision: "allowed",
			Articles: articles(d.All()), Override: strings.Join(d.OverrideIDs(), ","),
		},
		DecisionID: decisionID, RequestedBy: remote, Operation: "CREATE",
	}
	if !d.Allowed {
		r.Decision = "denied"
	}
	obj, _ := input.(map[string]any)
	if req, ok := obj["request"].(map[string]any); ok && obj["kind"] == "AdmissionReview" {
		r.Review = true
		r.UID, _ = req["uid"].(string)
		r.Operation, _ = req["operation"].(string)
		if u, ok := req["userInfo"].(map[string]any); ok {
			r.User, _ = u["username"].(string)
		}
		o, _ := req["object"].(map[string]any)
		if o == nil {
			o, _ = req["oldObject"].(map[string]any)
		}
		r.Object = objectRef(o)
		if ns, ok := req["namespace"].(string); ok && r.Object.Namespace == "" {
			r.Object.Namespace = ns
		}
		return r
	}
	r.Object = objectRef(obj)
	return r
}

func objectRef(o map[string]any) ObjectRef {
	var ref ObjectRef
	ref.APIVersion, _ = o["apiVersion"].(string)
	ref.Kind, _ = o["kind"].(string)
	if md, ok := o["metadata"].(map[string]any); ok {
		ref.Namespace, _ = md["namespace"].(string)
		ref.Name, _ = md["name"].(string)
	}
	return ref
}

func articles(fs []engine.Finding) []audit.Article {
	out := make([]audit.Article, len(fs))
	for i, f := range fs {
		out[i] = audit.Article{ID: f.Article, Title: f.Title, Action: f.Action, Severity: f.Severity, Message: f.Message, Path: f.Path, Override: f.Override}
	}
	return out
}

// Log is the plugin's side of OPA's decision-log plugin (decision_logs.plugin:
// charter): every decision of data.charter.decision OPA served, from any API,
// goes to the audit log. Other documents are not charter decisions.
func (p *Plugin) Log(ctx context.Context, ev logs.EventV1) error {
	if ev.Path != DecisionPath && ev.Query != "data."+dotted(DecisionPath) {
		return nil
	}
	var d engine.Decision
	if ev.Result == nil || ev.Error != nil {
		return nil // no decision was made: OPA answered with an error
	}
	raw, err := json.Marshal(*ev.Result)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return err
	}
	var input any
	if ev.Input != nil {
		input = *ev.Input
	}
	b := audit.Bundle{Revision: ev.Bundles[Name].Revision}
	if a := p.current(); a != nil && a.bundle.Revision == b.Revision {
		b = a.bundle
	}
	return p.sink.Append(ctx, record(input, d, b, ev.Timestamp, ev.DecisionID, ev.RequestedBy))
}

func dotted(path string) string {
	out := []byte(path)
	for i, c := range out {
		if c == '/' {
			out[i] = '.'
		}
	}
	return string(out)
}
