package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/engine"
	sigkeys "github.com/charter-dev/charter/keys"
	"github.com/charter-dev/charter/report"
	"github.com/spf13/pflag"
	"golang.org/x/mod/sumdb/note"
	"k8s.io/apimachinery/pkg/api/resource"
)

// auditOptions are the audit log flags every enforcement command shares
// (webhook serve, eval, agent run).
type auditOptions struct {
	Log          string
	Key          string
	Sync         bool
	SyncInterval time.Duration
	MaxSize      string
}

func (o *auditOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Log, "audit-log", "", "append every decision to this tamper-evident log (JSON lines, Merkle tree, checkpoints); - writes plain JSON lines to stdout")
	fs.StringVar(&o.Key, "audit-key", "", "cosign-format private key signing the log's checkpoints (password from $COSIGN_PASSWORD)")
	fs.BoolVar(&o.Sync, "audit-sync", false, "acknowledge a decision only once its record is on disk (fsync, group commit)")
	fs.DurationVar(&o.SyncInterval, "audit-sync-interval", audit.DefaultMinSyncInterval, "with --audit-sync, the least time between two fsyncs: records arriving meanwhile join the next group (0: fsync as soon as the previous one ends)")
	fs.StringVar(&o.MaxSize, "audit-max-size", "", "rotate the log file at this size, e.g. 100Mi; one tree spans every file")
}

// open returns the sink the flags ask for (audit.Discard without
// --audit-log) and its close function. What Open repaired after a crash is
// reported on stderr.
func (o *auditOptions) open(stdout, stderr io.Writer) (audit.Sink, func() error, error) {
	none := func() error { return nil }
	if o.Log == "" {
		if o.Key != "" || o.Sync || o.MaxSize != "" {
			return nil, none, errors.New("--audit-key, --audit-sync and --audit-max-size need --audit-log")
		}
		return audit.Discard, none, nil
	}
	if o.Log == "-" {
		if o.Key != "" || o.Sync || o.MaxSize != "" {
			return nil, none, errors.New("--audit-log - writes plain JSON lines: --audit-key, --audit-sync and --audit-max-size need a file")
		}
		return audit.NewJSONLines(stdout), none, nil
	}
	if o.SyncInterval < 0 {
		return nil, none, fmt.Errorf("--audit-sync-interval %s: want 0 or more", o.SyncInterval)
	}
	opts := audit.Options{Sync: o.Sync, MinSyncInterval: o.SyncInterval}
	if o.MaxSize != "" {
		q, err := resource.ParseQuantity(o.MaxSize)
		if err != nil || q.Sign() <= 0 {
			return nil, none, fmt.Errorf("--audit-max-size %q: want a size such as 100Mi", o.MaxSize)
		}
		opts.MaxSize = q.Value()
	}
	if o.Key != "" {
		s, err := loadAuditSigner(o.Key, stderr)
		if err != nil {
			return nil, none, err
		}
		opts.Signer = s
	}
	l, err := audit.Open(o.Log, opts)
	if err != nil {
		return nil, none, err
	}
	if r := l.Recovered(); r.String() != "clean" {
		fmt.Fprintf(stderr, "charter: audit log %s was not closed cleanly: %s\n", o.Log, r)
	}
	return l, l.Close, nil
}

// loadAuditSigner reads a cosign-format private key (charter keys generate,
// cosign generate-key-pair); the password comes from $COSIGN_PASSWORD or the
// terminal.
func loadAuditSigner(path string, prompt io.Writer) (note.Signer, error) {
	sv, err := sigkeys.LoadPrivate(path, sigkeys.Password(os.LookupEnv, prompt, false))
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return audit.NoteSigner(sv)
}

// loadAuditVerifier reads a cosign-format public key (cosign.pub).
func loadAuditVerifier(path string) (note.Verifier, error) {
	v, err := sigkeys.LoadPublic(path)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return audit.NoteVerifier(v)
}

// evalRecord is one `charter eval` decision as the audit log keeps it.
type evalRecord struct {
	audit.Header
	File       string `json:"file"`
	Index      int    `json:"index"`
	Line       int    `json:"line,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name,omitempty"`
}

// recorder opens the audit log the flags name and returns what records
// each eval result in it as it is decided, and the log's close function.
func (o *auditOptions) recorder(ctx context.Context, stdout, stderr io.Writer, e *engine.Engine) (func(report.Result) error, func() error, error) {
	sink, closeAudit, err := o.open(stdout, stderr)
	if err != nil {
		return nil, nil, badInput(err)
	}
	b := audit.BundleOf(e.Revision(), e.Bundle().Manifest.Metadata)
	record := func(r report.Result) error {
		if err := sink.Append(ctx, evalRecordOf(b, r)); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		return nil
	}
	return record, closeAudit, nil
}

// evalRecordOf is one eval result as the audit log keeps it.
func evalRecordOf(b audit.Bundle, r report.Result) *evalRecord {
	rec := evalRecord{Header: audit.Header{Source: "eval", Bundle: b, Decision: "allowed"},
		File: r.File, Index: r.Index, Line: r.Line, APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
	if !r.Allowed {
		rec.Decision = "denied"
	}
	for _, v := range r.Violations {
		rec.Articles = append(rec.Articles, audit.Article{ID: v.Article, Action: v.Action, Severity: v.Severity, Message: v.Message, Path: v.Path, Override: v.Override})
		if v.Override != "" && !slices.Contains(strings.Split(rec.Override, ","), v.Override) {
			rec.Override = strings.TrimPrefix(rec.Override+","+v.Override, ",")
		}
	}
	return &rec
}
