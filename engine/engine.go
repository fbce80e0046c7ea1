package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/compiler"
	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// Finding is one article's verdict on one object (or one element of it).
type Finding struct {
	Article  string `json:"article"`
	Title    string `json:"title,omitempty"`
	Action   string `json:"action"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Path     string `json:"path,omitempty"`
	// Override is the id of the verified override that lifted this denial
	// (in Decision.Overridden only).
	Override string `json:"override,omitempty"`
}

// Decision is data.charter.decision.
type Decision struct {
	Allowed    bool      `json:"allowed"`
	Violations []Finding `json:"violations"`
	Warnings   []Finding `json:"warnings"`
	Audits     []Finding `json:"audits"`
	// Overridden are the denials that verified overrides lifted, each naming
	// its override: they no longer deny, and are reported.
	Overridden []Finding `json:"overridden"`
}

// All returns every finding: violations, then warnings, then audits, then
// the overridden denials (each with its Override).
func (d Decision) All() []Finding {
	out := make([]Finding, 0, len(d.Violations)+len(d.Warnings)+len(d.Audits)+len(d.Overridden))
	out = append(out, d.Violations...)
	out = append(out, d.Warnings...)
	out = append(out, d.Audits...)
	return append(out, d.Overridden...)
}

// OverrideIDs are the distinct ids of the overrides that lifted a denial,
// in order of first use.
func (d Decision) OverrideIDs() []string {
	var ids []string
	for _, f := range d.Overridden {
		if !slices.Contains(ids, f.Override) {
			ids = append(ids, f.Override)
		}
	}
	return ids
}

// Engine holds the prepared queries over one bundle.
type Engine struct {
	query    rego.PreparedEvalQuery
	runtime  rego.PreparedEvalQuery
	hatch    rego.PreparedEvalQuery
	native   *native // nil: OPA decides everything
	bundle   *bundles.Bundle
	revision string
	opts     []Option
	// clusterKinds are the kinds the articles' cluster queries read.
	clusterKinds    []string
	clusterArticles []ClusterArticle
	clusterFields   map[string][]programv1.Path
	clock           func() time.Time
}

// ClusterKinds lists the kinds the bundle's cluster queries read from
// data.charter.cluster (sorted; none when it has no cluster query).
func (e *Engine) ClusterKinds() []string { return e.clusterKinds }

// WithClusterData is the engine over the same bundle and options with
// other cluster data (see WithClusterData).
func (e *Engine) WithClusterData(ctx context.Context, doc map[string]any) (*Engine, error) {
	return New(ctx, e.bundle, append(append([]Option(nil), e.opts...), WithClusterData(doc))...)
}

// Option configures an Engine.
type Option func(*options)

type options struct {
	opaOnly bool
	cluster map[string]any
	view    ClusterView
	clock   func() time.Time
}

// Clock sets the clock decisions read (override time windows, and
// time.now_ns in raw Rego); time.Now by default.
func Clock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// OPAOnly makes OPA evaluate every article, also those the engine would
// evaluate natively: the reference the native path is tested against.
func OPAOnly() Option { return func(o *options) { o.opaOnly = true } }

// New prepares the decision query over b. It compiles the policy once.
// Declarative articles are evaluated natively when the bundle carries their
// program (data.charter.program); raw Rego articles always by OPA.
func New(ctx context.Context, b *bundles.Bundle, opts ...Option) (*Engine, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if b == nil || b.OPA == nil {
		return nil, errors.New("engine: no bundle")
	}
	// Raw Rego may call network, host and randomness builtins only when its
	// charter allowed them (compiler.Capabilities): a bundle built any other
	// way that calls them does not load.
	caps := compiler.Capabilities(b.Info.AllowedBuiltins)
	opaBundle := b.OPA
	if o.cluster != nil {
		var err error
		if opaBundle, err = withCluster(b.OPA, o.cluster); err != nil {
			return nil, err
		}
	}
	q, err := rego.New(
		rego.Query(compiler.DecisionWithOverridesQuery),
		rego.ParsedBundle("charter", opaBundle),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Capabilities(caps),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare decision query: %w", err)
	}
	rq, err := rego.New(
		rego.Query(compiler.RuntimeQuery),
		rego.ParsedBundle("charter", opaBundle),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Capabilities(caps),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare runtime query: %w", err)
	}
	e := &Engine{query: q, runtime: rq, bundle: b, revision: b.Revision(), opts: opts, clock: o.clock}
	if e.clock == nil {
		e.clock = time.Now
	}
	// The program is read also when OPA decides alone: a bundle whose
	// program this engine does not understand is refused either way.
	prog, err := readProgram(b.Program)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", e.revision, err)
	}
	if prog != nil {
		e.clusterKinds = prog.ClusterKinds()
		e.clusterArticles, e.clusterFields = clusterInfo(prog)
	}
	if p := prog; p != nil && !o.opaOnly {
		if e.native, err = newNative(p); err != nil {
			return nil, fmt.Errorf("load program: %w", err)
		}
		if o.cluster != nil {
			if e.native.cluster, err = clusterValue(o.cluster); err != nil {
				return nil, err
			}
		}
		e.native.view = o.view
	}
	if o.view != nil && e.native == nil && len(e.clusterKinds) > 0 {
		return nil, errors.New("engine: a cluster view needs the native evaluator (not OPAOnly)")
	}
	if e.native != nil && e.native.hatch {
		e.hatch, err = rego.New(
			rego.Query(compiler.HatchQuery),
			rego.ParsedBundle("charter", opaBundle),
			rego.SetRegoVersion(ast.RegoV1),
			rego.Capabilities(caps),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("prepare hatch query: %w", err)
		}
	}
	return e, nil
}

// Revision is the bundle revision this engine enforces.
func (e *Engine) Revision() string { return e.revision }

// Bundle is the bundle this engine enforces.
func (e *Engine) Bundle() *bundles.Bundle { return e.bundle }

// Decide evaluates one input: a Kubernetes object or an AdmissionReview, as
// JSON-compatible Go values (map[string]any ...).
func (e *Engine) Decide(ctx context.Context, input any) (Decision, error) {
	return e.DecideWith(ctx, input, nil)
}

// DecideWith evaluates one input with verified overrides in force (nil:
// none): a denial an override lifts moves to Decision.Overridden.
func (e *Engine) DecideWith(ctx context.Context, input any, ov *Overrides) (Decision, error) {
	v, err := ast.InterfaceToValue(input)
	if err != nil {
		return Decision{}, fmt.Errorf("convert input: %w", err)
	}
	return e.DecideValueWith(ctx, v, ov)
}

// DecideApplied is DecideWith, and how many articles apply to the input
// (those Explain does not call skipped): 0 means none does, so an allowed
// input was not checked rather than passed; -1 when unknown, because OPA
// decided alone (a bundle without a program, or OPAOnly). Reports use it to
// tell SKIP from PASS without a second evaluation.
func (e *Engine) DecideApplied(ctx context.Context, input any, ov *Overrides) (Decision, int, error) {
	v, err := ast.InterfaceToValue(input)
	if err != nil {
		return Decision{}, 0, fmt.Errorf("convert input: %w", err)
	}
	return e.decideValue(ctx, v, ov)
}

// Native reports whether declarative articles are evaluated natively.
func (e *Engine) Native() bool { return e.native != nil }

// FullyNative reports whether every article is decided natively, none by
// OPA: the decision then depends on the input and the bundle alone, never on
// other documents an OPA store holds beside the bundle.
func (e *Engine) FullyNative() bool { return e.native != nil && !e.native.hatch }

// DecideValue evaluates an input already converted to an OPA value.
func (e *Engine) DecideValue(ctx context.Context, input ast.Value) (Decision, error) {
	return e.DecideValueWith(ctx, input, nil)
}

// DecideValueWith is DecideWith for an input already converted to an OPA value.
func (e *Engine) DecideValueWith(ctx context.Context, input ast.Value, ov *Overrides) (Decision, error) {
	d, _, err := e.decideValue(ctx, input, ov)
	return d, err
}

// decideValue is DecideValueWith with the number of articles that apply
// (-1: unknown, OPA decided alone).
func (e *Engine) decideValue(ctx context.Context, input ast.Value, ov *Overrides) (Decision, int, error) {
	now := e.clock()
	if e.native != nil {
		return e.decideNative(ctx, input, ov, now)
	}
	wrapped := ast.NewObject(
		ast.Item(ast.StringTerm("review"), ast.NewTerm(input)),
		ast.Item(ast.StringTerm("overrides"), ast.NewTerm(ov.data())),
	)
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(wrapped), rego.EvalTime(now))
	if err != nil {
		return Decision{}, -1, fmt.Errorf("evaluate: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Decision{}, -1, errors.New("evaluate: the bundle gave no decision")
	}
	d, err := decode(rs[0].Expressions[0].Value)
	return d, -1, err
}

func decode(v any) (Decision, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Decision{}, fmt.Errorf("decision is %T, not an object", v)
	}
	var d Decision
	d.Allowed, ok = m["allowed"].(bool)
	if !ok {
		return Decision{}, errors.New("decision has no boolean allowed")
	}
	var err error
	if d.Violations, err = findings(m["violations"]); err != nil {
		return Decision{}, err
	}
	if d.Warnings, err = findings(m["warnings"]); err != nil {
		return Decision{}, err
	}
	if d.Audits, err = findings(m["audits"]); err != nil {
		return Decision{}, err
	}
	d.Overridden = []Finding{}
	if o, ok := m["overridden"]; ok { // a bundle compiled before overrides has none
		if d.Overridden, err = findings(o); err != nil {
			return Decision{}, err
		}
	}
	return d, nil
}

func findings(v any) ([]Finding, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("decision findings are %T, not a list", v)
	}
	out := make([]Finding, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("finding is %T, not an object", e)
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		out = append(out, Finding{
			Article: str("article"), Title: str("title"), Action: str("action"),
			Severity: str("severity"), Message: str("message"), Path: str("path"), Override: str("override"),
		})
	}
	return out, nil
}

// RuntimeEvent is one kernel event of the node agent.
type RuntimeEvent struct {
	Kind  string `json:"kind"`            // exec, connect, open
	Path  string `json:"path,omitempty"`  // exec: the binary; open: the file
	Write bool   `json:"write,omitempty"` // open: write access asked
	Read  bool   `json:"read,omitempty"`  // open: read access asked
	Dest  *Dest  `json:"dest,omitempty"`  // connect
	// SameFileAs lists the rule paths (exec deny and allow) whose file has
	// the identity (device and inode) of the executed file, as the node
	// resolved them: a hard link or a renamed copy of a listed file.
	SameFileAs []string `json:"sameFileAs,omitempty"`
	// Fileless: the executed file has no path on a filesystem (a memfd, a
	// deleted file, a file on a detached mount).
	Fileless bool `json:"fileless,omitempty"`
}

// Dest is a connect destination.
type Dest struct {
	Addr string `json:"addr"`
	Port int    `json:"port"`
}

// DecideRuntime returns the runtime articles a kernel event falls under.
func (e *Engine) DecideRuntime(ctx context.Context, ev RuntimeEvent) ([]Finding, error) {
	same := make([]any, 0, len(ev.SameFileAs))
	for _, p := range ev.SameFileAs {
		same = append(same, p)
	}
	in := map[string]any{"kind": ev.Kind, "path": ev.Path, "write": ev.Write, "read": ev.Read, "sameFileAs": same, "fileless": ev.Fileless}
	if ev.Dest != nil {
		in["dest"] = map[string]any{"addr": ev.Dest.Addr, "port": ev.Dest.Port}
	}
	rs, err := e.runtime.Eval(ctx, rego.EvalInput(in))
	if err != nil {
		return nil, fmt.Errorf("evaluate runtime event: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, nil
	}
	return findings(rs[0].Expressions[0].Value)
}

func (e *Engine) decideNative(ctx context.Context, input ast.Value, ov *Overrides, now time.Time) (Decision, int, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, 0, fmt.Errorf("evaluate: %w", err)
	}
	set, env, applied, needHatch := e.native.decide(input)
	if needHatch {
		rs, err := e.hatch.Eval(ctx, rego.EvalParsedInput(input), rego.EvalTime(now))
		if err != nil {
			return Decision{}, 0, fmt.Errorf("evaluate: %w", err)
		}
		if len(rs) == 1 && len(rs[0].Expressions) == 1 {
			list, ok := rs[0].Expressions[0].Value.([]any)
			if !ok {
				return Decision{}, 0, fmt.Errorf("hatch findings are %T, not a set", rs[0].Expressions[0].Value)
			}
			for _, f := range list {
				v, err := ast.InterfaceToValue(f)
				if err != nil {
					return Decision{}, 0, err
				}
				set.Add(ast.NewTerm(v))
			}
		}
	}
	d := Decision{Allowed: true, Violations: []Finding{}, Warnings: []Finding{}, Audits: []Finding{}, Overridden: []Finding{}}
	sorted := set.Sorted()
	for i := 0; i < sorted.Len(); i++ {
		o, ok := sorted.Elem(i).Value.(ast.Object)
		if !ok {
			return Decision{}, 0, fmt.Errorf("finding is %v, not an object", sorted.Elem(i))
		}
		str := func(k string) string {
			if t := o.Get(ast.StringTerm(k)); t != nil {
				if s, ok := t.Value.(ast.String); ok {
					return string(s)
				}
			}
			return ""
		}
		f := Finding{Article: str("article"), Title: str("title"), Action: str("action"), Severity: str("severity"), Message: str("message"), Path: str("path")}
		switch f.Action {
		case "deny":
			d.Violations = append(d.Violations, f)
			d.Allowed = false
		case "warn":
			d.Warnings = append(d.Warnings, f)
		case "audit":
			d.Audits = append(d.Audits, f)
		}
	}
	liftNative(&d, env, ov, now)
	return d, applied, nil
}
