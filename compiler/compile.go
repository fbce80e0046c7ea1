package compiler

import (
	_ "embed"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/kinds"
	"github.com/charter-dev/charter/podtemplate"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
)

//go:embed lib.rego
var libSource string

//go:embed runtime.rego
var runtimeSource string

// RuntimeQuery answers the findings of one kernel event of the node agent.
const RuntimeQuery = "data.charter.runtime.findings"

// DecisionQuery is the query that answers a whole decision.
const DecisionQuery = "data.charter.decision"

// OverridesRoot is the data root of verified overrides
// (data.charter_overrides, see package overrides). The bundle's manifest
// claims it beside charter (bundles.FromOutput) though it ships nothing
// there: stock OPA then refuses writes to it through its REST API and erases
// it when it activates the bundle, so only charter's own loaders, which
// verify every override against the bundle's council, fill it.
const OverridesRoot = "charter_overrides"

const overridesRoot = OverridesRoot

// DecisionWithOverridesQuery answers a decision for input.review with the
// verified overrides input.overrides in force (an object keyed by id).
const DecisionWithOverridesQuery = DecisionQuery + " with data." + OverridesRoot + " as input.overrides with input as input.review"

// HatchQuery answers the findings of the articles written in raw Rego.
const HatchQuery = "data.charter.hatch_findings"

// Output is a compiled charter: Rego modules by bundle path, and the data document.
type Output struct {
	Modules map[string]string
	Info    Info
	Program *Program
}

// Info is data.charter.info: what tools need to know about the charter
// without reading Rego.
type Info struct {
	Name        string                 `json:"name"`
	Version     string                 `json:"version,omitempty"`
	Description string                 `json:"description,omitempty"`
	Scope       ScopeInfo              `json:"scope"`
	Articles    map[string]ArticleInfo `json:"articles"`
	Runtime     []RuntimeArticle       `json:"runtime"`
	Council     *CouncilInfo           `json:"council,omitempty"`
	// AllowedBuiltins are the restricted builtins (see RestrictedBuiltins)
	// that some charter allowed its raw Rego articles to call; the engine
	// evaluates the bundle with exactly these added to the default set.
	AllowedBuiltins []string `json:"allowedBuiltins,omitempty"`
	// PodTemplates is where each kind keeps its pod (built-in kinds and the
	// charter's spec.podTemplates): articles written for Pod cover them all.
	PodTemplates []podtemplate.Template `json:"podTemplates"`
	// CustomKinds are the custom resource kinds the charter declares
	// (spec.customKinds): where the webhook's rules send their requests,
	// which are cluster-scoped, what a cache of cluster data lists.
	CustomKinds []CustomKind `json:"customKinds,omitempty"`
}

// CustomKind is a custom resource kind the charter declares.
type CustomKind struct {
	Group      string `json:"group"`
	Version    string `json:"version"`
	Kind       string `json:"kind"`
	Plural     string `json:"plural"`
	Namespaced bool   `json:"namespaced"`
}

// Kinds is the kind in the kinds package's terms (namespace defaulting).
func (k CustomKind) Kinds() kinds.Custom {
	return kinds.Custom{Group: k.Group, Version: k.Version, Kind: k.Kind, Namespaced: k.Namespaced}
}

// DeclaredKinds lists the custom kinds in the kinds package's terms.
func (in Info) DeclaredKinds() []kinds.Custom {
	out := make([]kinds.Custom, 0, len(in.CustomKinds))
	for _, k := range in.CustomKinds {
		out = append(out, k.Kinds())
	}
	return out
}

// ScopeInfo is the charter-wide namespace scope.
type ScopeInfo struct {
	Namespaces        []string `json:"namespaces,omitempty"`
	ExcludeNamespaces []string `json:"excludeNamespaces,omitempty"`
}

// ArticleInfo describes one article.
type ArticleInfo struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Severity    string   `json:"severity"`
	Action      string   `json:"action"`
	Kinds       []string `json:"kinds,omitempty"`
	// Operations the article decides: its match.operations, CREATE and
	// UPDATE when it names none, ["*"] for all. The webhook configuration
	// is derived from kinds and operations.
	Operations []string `json:"operations,omitempty"`
	Package    string   `json:"package,omitempty"`
	Runtime    bool     `json:"runtime,omitempty"`
}

// RuntimeArticle is one runtime rule for the node agent.
type RuntimeArticle struct {
	Article  string          `json:"article"`
	Title    string          `json:"title"`
	Severity string          `json:"severity"`
	Runtime  charter.Runtime `json:"runtime"`
	Connect  []NetTarget     `json:"connect,omitempty"`      // runtime.connect.deny, parsed
	Allow    []NetTarget     `json:"connectAllow,omitempty"` // runtime.connect.allow, parsed
}

// NetTarget is a parsed connect target; port 0 means every port.
type NetTarget struct {
	Target string `json:"target"`
	CIDR   string `json:"cidr"`
	Port   int    `json:"port"`
}

// CouncilInfo is the council that approves overrides, signed with the
// bundle: the public keys themselves (never file names alone), so an
// override can name neither its own approvers nor its own threshold.
type CouncilInfo struct {
	Threshold int          `json:"threshold"`
	Keys      []CouncilKey `json:"keys"`
	// MaxLifetime is the longest an override may last, a Go duration ("24h").
	MaxLifetime string `json:"maxLifetime"`
	// Revoked lists override ids that never count.
	Revoked []string `json:"revoked,omitempty"`
}

// CouncilKey is one custodian's public key.
type CouncilKey struct {
	Name      string `json:"name"`      // the key file as the charter names it
	ID        string `json:"id"`        // keys.ID of the public key: sha256 of its DER
	PublicKey string `json:"publicKey"` // PEM, as cosign writes it
}

// Compile turns a loaded charter into Rego modules. Errors in rego hatches
// are reported at their charter position, as a charter.ErrorList.
func Compile(c *charter.Charter) (*Output, error) {
	out := &Output{Modules: map[string]string{}, Info: info(c), Program: program(c)}
	var mods []*module
	var errs charter.ErrorList
	templates, err := c.PodTemplateTable()
	if err != nil {
		errs.Add(c.Pos, "spec.podTemplates: %v", err)
		templates, _ = podtemplate.New(nil)
	}
	out.Info.PodTemplates = templates.Templates()
	if c.Spec.Council != nil {
		var cerrs charter.ErrorList
		out.Info.Council, cerrs = council(c.Spec.Council)
		errs = append(errs, cerrs...)
	}
	out.Program.PodTemplates = templates.Templates()
	packages := map[string]*charter.Article{}
	checked := map[*charter.RegoCapabilities]bool{}
	for _, a := range c.Spec.Articles {
		if rc := a.RegoCapabilities; rc != nil && !checked[rc] {
			checked[rc] = true
			errs = append(errs, checkCapabilities(rc)...)
		}
		if a.Violation == nil && a.Rego == "" {
			continue
		}
		if a.Rego != "" {
			h, err := parseHatch(a.Rego)
			if err != nil {
				errs = append(errs, hatchErrors(a, err)...)
				continue
			}
			if bad := checkBuiltins(a, h); len(bad) > 0 {
				errs = append(errs, bad...)
				continue
			}
		}
		pkg := packageName(a.ID)
		if prev, dup := packages[pkg]; dup {
			errs.Add(a.Pos, "article ids %q and %q (at %s) both compile to package charter.articles.%s; rename one", a.ID, prev.ID, prev.Pos, pkg)
			continue
		}
		packages[pkg] = a
		if err := checkPodKinds(a, templates); err != nil {
			errs.Add(a.Pos, "article %s: %v", a.ID, err)
			continue
		}
		mods = append(mods, articleModule(a))
	}
	out.Modules["charter/lib.rego"] = libSource + "\n" + templates.Rego() + scopeRules(c.Spec.Scope)
	out.Modules["charter/charter.rego"] = aggregate(mods)
	out.Modules["charter/runtime.rego"] = runtimeSource
	for _, m := range mods {
		out.Modules[m.path] = m.src
	}
	parsed, perrs := parseAndFormat(out.Modules, mods)
	errs = append(errs, perrs...)
	// The modules that parsed are compiled even when others did not, so
	// every error is reported in one pass.
	if len(parsed) > 0 {
		compiler := ast.NewCompiler().WithStrict(true).WithCapabilities(Capabilities(out.Info.AllowedBuiltins))
		if compiler.Compile(parsed); compiler.Failed() {
			for _, e := range compiler.Errors {
				errs = append(errs, locate(ast.Errors{e}, mods, locFile(e))...)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs.Err()
	}
	return out, nil
}

// checkPodKinds rejects an article that reads the pod (pod paths, containers,
// volumes) but also names kinds without one: those would never be decided.
func checkPodKinds(a *charter.Article, templates *podtemplate.Table) error {
	if !(&articleGen{a: a}).readsPod() {
		return nil
	}
	var other []string
	for _, k := range a.Match.Kinds {
		if k != "*" && !templates.HasKind(k) {
			other = append(other, k)
		}
	}
	if len(other) > 0 {
		return fmt.Errorf("reads the pod (pod paths, containers or volumes) but match.kinds also names %s, which has no pod; move those kinds to an article of their own", strings.Join(other, ", "))
	}
	return nil
}

func locFile(e *ast.Error) string {
	if e.Location != nil {
		return e.Location.File
	}
	return ""
}

// locate maps OPA errors to charter positions: inside a rego hatch, to the
// hatch's line in the charter; elsewhere, to the article (a generator fault).
func locate(err error, mods []*module, file string) charter.ErrorList {
	var list charter.ErrorList
	astErrs, ok := err.(ast.Errors)
	if !ok {
		list.Add(charter.Pos{File: file}, "generated Rego: %v", err)
		return list
	}
	for _, e := range astErrs {
		var m *module
		for _, cand := range mods {
			if e.Location != nil && cand.path == e.Location.File {
				m = cand
			}
		}
		switch {
		case m != nil && m.hatchLine > 0 && e.Location.Row >= m.hatchLine:
			// The body is indented by one tab in the module.
			list.Add(hatchPos(m.article, e.Location.Row-m.hatchLine+1, e.Location.Col-1), "rego: %s", e.Message)
		case m != nil:
			list.Add(m.article.Pos, "article %s: generated Rego does not compile (a charter bug, please report): %s:%d: %s", m.article.ID, m.path, e.Location.Row, e.Message)
		default:
			row := 0
			if e.Location != nil {
				row = e.Location.Row
			}
			list.Add(charter.Pos{File: file}, "generated Rego does not compile (a charter bug, please report): line %d: %s", row, e.Message)
		}
	}
	return list
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// scopeRules renders the charter-wide scope as lib.in_scope.
func scopeRules(s charter.Scope) string {
	var w writer
	w.blank()
	w.line(0, "# The charter's scope: where any article applies at all.")
	w.line(0, "in_scope if {")
	if len(s.Namespaces) > 0 {
		w.line(1, "namespace_matches(%s)", term(s.Namespaces))
	}
	if len(s.ExcludeNamespaces) > 0 {
		w.line(1, "not namespace_matches(%s)", term(s.ExcludeNamespaces))
	}
	if len(s.Namespaces) == 0 && len(s.ExcludeNamespaces) == 0 {
		w.line(1, "true")
	}
	w.line(0, "}")
	return w.b.String()
}

// aggregate writes package charter: the decision and conftest's deny and warn.
func aggregate(mods []*module) string {
	var w writer
	w.line(0, "# METADATA")
	w.line(0, "# title: charter decision")
	w.line(0, "# description: >-")
	w.line(0, "#   Every finding of every article, and the decision built from them.")
	w.line(0, "#   deny and warn serve conftest (--namespace charter). Generated by charter; do not edit.")
	w.line(0, "package charter")
	w.blank()
	sort.Slice(mods, func(i, j int) bool { return mods[i].pkg < mods[j].pkg })
	if len(mods) == 0 {
		w.line(0, "findings := set()")
		w.blank()
	}
	for _, m := range mods {
		w.line(0, "findings contains f if some f in data.charter.articles.%s.findings", m.pkg)
		w.blank()
	}
	for _, kind := range []struct{ name, action string }{{"denials", "deny"}, {"warnings", "warn"}, {"audits", "audit"}} {
		w.line(0, "%s := [f | some f in findings; f.action == %q]", kind.name, kind.action)
		w.blank()
	}
	w.line(0, "# A denial that a verified override lifts is not a violation: it is")
	w.line(0, "# reported as overridden, naming the override.")
	w.line(0, "violations := [f | some f in denials; not override_for(f)]")
	w.blank()
	w.line(0, `overridden := [object.union(f, {"override": id}) | some f in denials; id := override_for(f)]`)
	w.blank()
	w.line(0, "# The override that lifts a denial: of the verified overrides in")
	w.line(0, "# data.%s (written there only after their council signatures were", overridesRoot)
	w.line(0, "# checked), the least id whose article, scope and time window match.")
	w.line(0, "override_for(f) := min(ids) if {")
	w.line(1, "ids := {o.id | some o in data.%s; data.charter.lib.override_matches(o, f.article)}", overridesRoot)
	w.line(1, "count(ids) > 0")
	w.line(0, "}")
	w.blank()
	w.line(0, `decision := {`)
	w.line(1, `"allowed": count(violations) == 0,`)
	w.line(1, `"violations": violations,`)
	w.line(1, `"warnings": warnings,`)
	w.line(1, `"audits": audits,`)
	w.line(1, `"overridden": overridden,`)
	w.line(0, "}")
	w.blank()
	w.line(0, "# The findings of articles written in raw Rego: the engine evaluates the")
	w.line(0, "# declarative articles natively (data.charter.program) and asks OPA for these.")
	hatches := 0
	for _, m := range mods {
		if m.article.Violation == nil {
			w.line(0, "hatch_findings contains f if some f in data.charter.articles.%s.findings", m.pkg)
			w.blank()
			hatches++
		}
	}
	if hatches == 0 {
		w.line(0, "hatch_findings := set()")
		w.blank()
	}
	w.line(0, "# conftest's deny reads every denial, never data.%s: conftest loads", overridesRoot)
	w.line(0, "# any --data file into that path unchecked, so under conftest no override")
	w.line(0, "# counts (charter eval --overrides and conftest charter verify them).")
	w.line(0, `deny contains sprintf("%%s: %%s", [f.article, f.message]) if some f in denials`)
	w.blank()
	w.line(0, `warn contains sprintf("%%s: %%s", [f.article, f.message]) if some f in warnings`)
	return w.b.String()
}

func info(c *charter.Charter) Info {
	in := Info{
		Name:            c.Metadata.Name,
		Version:         c.Metadata.Version,
		Description:     c.Metadata.Description,
		Scope:           ScopeInfo{Namespaces: c.Spec.Scope.Namespaces, ExcludeNamespaces: c.Spec.Scope.ExcludeNamespaces},
		Articles:        map[string]ArticleInfo{},
		Runtime:         []RuntimeArticle{},
		AllowedBuiltins: allowedBuiltins(c),
	}
	for _, k := range c.Spec.CustomKinds {
		in.CustomKinds = append(in.CustomKinds, CustomKind{Group: k.Group, Version: k.Version, Kind: k.Kind, Plural: k.Plural, Namespaced: k.Namespaced})
	}
	for _, a := range c.Spec.Articles {
		ai := ArticleInfo{Title: a.Title, Description: strings.TrimSpace(a.Description), Severity: a.Severity, Action: a.Action, Kinds: a.Match.Kinds, Runtime: a.Runtime != nil}
		if len(a.Match.Kinds) > 0 {
			ai.Operations = articleOperations(a.Match)
		}
		if a.Violation != nil || a.Rego != "" {
			ai.Package = "charter.articles." + packageName(a.ID)
		}
		in.Articles[a.ID] = ai
		if a.Runtime != nil {
			ra := RuntimeArticle{Article: a.ID, Title: a.Title, Severity: a.Severity, Runtime: *a.Runtime}
			if c := a.Runtime.Connect; c != nil {
				ra.Connect, ra.Allow = netTargets(c.Deny), netTargets(c.Allow)
			}
			in.Runtime = append(in.Runtime, ra)
		}
	}
	return in
}

// netTargets parses connect targets for the runtime policy; the charter
// parser already rejected bad ones.
func netTargets(list []string) []NetTarget {
	var out []NetTarget
	for _, t := range list {
		if nt, err := charter.ParseNetTarget(t); err == nil {
			out = append(out, NetTarget{Target: t, CIDR: nt.Prefix.String(), Port: int(nt.Port)})
		}
	}
	return out
}

// articleOperations are the operations an article decides.
func articleOperations(m charter.Match) []string {
	switch {
	case len(m.Operations) == 0:
		return []string{"CREATE", "UPDATE"}
	case contains(m.Operations, "*"):
		return []string{"*"}
	}
	return m.Operations
}

// String summarises the output for logs.
func (o *Output) String() string {
	return fmt.Sprintf("%s: %d modules, %d articles", o.Info.Name, len(o.Modules), len(o.Info.Articles))
}

// parseAndFormat parses every module and rewrites it as opa fmt prints it,
// on every core: modules are independent until the compiler pass.
func parseAndFormat(modules map[string]string, mods []*module) (map[string]*ast.Module, charter.ErrorList) {
	names := sortedNames(modules)
	type result struct {
		mod       *ast.Module
		formatted string
		errs      charter.ErrorList
	}
	results := make([]result, len(names))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				name := names[i]
				mod, err := ast.ParseModuleWithOpts(name, modules[name], ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
				if err != nil {
					results[i].errs = locate(err, mods, name)
					continue
				}
				formatted, err := format.AstWithOpts(mod, format.Opts{RegoVersion: ast.RegoV1})
				if err != nil {
					results[i].errs = locate(err, mods, name)
					continue
				}
				results[i] = result{mod: mod, formatted: string(formatted)}
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	parsed := map[string]*ast.Module{}
	var errs charter.ErrorList
	for i, name := range names {
		if r := results[i]; r.mod != nil {
			parsed[name] = r.mod
			modules[name] = r.formatted
		} else {
			errs = append(errs, r.errs...)
		}
	}
	return parsed, errs
}

// Validate loads the charter file at path on its own (includes followed) and
// compiles it, reporting every error of every phase at once: articles with
// errors of their own are left out of the compile phase so the others'
// compile errors are found too.
func Validate(path string) (*charter.Charter, *Output, error) {
	c, err := charter.Load(path)
	var errs charter.ErrorList
	if err != nil {
		errs = append(errs, err.(charter.ErrorList)...)
	}
	if c == nil {
		return nil, nil, errs.Err()
	}
	valid := *c
	valid.Spec.Articles = nil
	for _, a := range c.Spec.Articles {
		if !a.Invalid {
			valid.Spec.Articles = append(valid.Spec.Articles, a)
		}
	}
	out, err := Compile(&valid)
	if err != nil {
		errs = append(errs, err.(charter.ErrorList)...)
	}
	if len(errs) > 0 {
		return nil, nil, errs.Err()
	}
	return c, out, nil
}

// CompilePaths loads the charters named by paths (files or directories,
// merged, includes followed) and compiles them.
func CompilePaths(paths []string) (*charter.Charter, *Output, error) {
	c, err := charter.LoadPaths(paths)
	if err != nil {
		return nil, nil, err
	}
	out, err := Compile(c)
	if err != nil {
		return nil, nil, err
	}
	return c, out, nil
}
