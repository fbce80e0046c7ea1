package webhook

import (
	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/engine"
)

// AuditRecord is one admission decision as the audit log keeps it: the
// fields every enforcement point writes (audit.Header: time, source, bundle
// revision and serial, decision, articles, override) and the request.
type AuditRecord struct {
	audit.Header
	UID       string    `json:"uid"`
	User      string    `json:"user"`
	Operation string    `json:"operation"`
	Object    ObjectRef `json:"object"`
	// Evaluated is false when the request was admitted without asking the
	// policy (excluded namespace, DELETE, CONNECT) or no decision was made.
	Evaluated bool   `json:"evaluated"`
	Reason    string `json:"reason,omitempty"`
	DryRun    bool   `json:"dryRun"`
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

// auditArticles lists the articles of a decision for the audit record.
func auditArticles(fs []engine.Finding) []audit.Article {
	out := make([]audit.Article, len(fs))
	for i, f := range fs {
		out[i] = audit.Article{ID: f.Article, Title: f.Title, Action: f.Action, Severity: f.Severity, Message: f.Message, Path: f.Path, Override: f.Override}
	}
	return out
}

// auditBundle identifies the decider's bundle: its revision, and the serial
// of its signed manifest when the decider has a bundle.
func auditBundle(d Decider) audit.Bundle {
	if b, ok := d.(interface{ Bundle() *bundles.Bundle }); ok && b.Bundle() != nil {
		return audit.BundleOf(d.Revision(), b.Bundle().Manifest.Metadata)
	}
	return audit.Bundle{Revision: d.Revision()}
}
