package charter

import (
	"strings"
	"time"

	"github.com/charter-dev/charter/podtemplate"
)

// APIVersion and Kind identify a Charter document.
const (
	APIVersion = "charter.dev/v1"
	Kind       = "Charter"
)

// Actions an article may take when its violation holds.
const (
	ActionDeny  = "deny"
	ActionWarn  = "warn"
	ActionAudit = "audit"
)

// Charter is one parsed charter file, with its includes resolved into Articles.
type Charter struct {
	Pos      Pos
	Metadata Metadata
	Spec     Spec
	// template is the charter's articles (its includes' too) before its
	// parameters are bound, for instances to bind again.
	template []*Article
}

// Metadata names and versions a charter.
type Metadata struct {
	Name        string
	Version     string
	Description string
}

// Spec is the body of a charter.
type Spec struct {
	Include          []Include
	PodTemplates     []PodTemplate
	Defaults         Defaults
	Scope            Scope
	Council          *Council
	RegoCapabilities *RegoCapabilities
	Articles         []*Article
	// Parameters make the charter a template: its articles are bound to the
	// defaults when it is used by itself, and to an instance's values when
	// another charter lists it in Instances.
	Parameters []Parameter
	Instances  []Instance
	// CustomKinds declares the custom resource kinds (CRDs) the charter's
	// articles and cluster queries may name; any other kind must be built in.
	CustomKinds []CustomKind
}

// CustomKind declares a custom resource kind: where it is served, the
// resource name requests about it arrive under, and its scope.
type CustomKind struct {
	Pos        Pos
	Group      string // e.g. argoproj.io
	Version    string // e.g. v1alpha1
	Kind       string // e.g. Rollout
	Plural     string // e.g. rollouts (default: the plural Kubernetes derives from the kind)
	Namespaced bool   // default true
}

// RegoCapabilities widens the builtins this charter's raw Rego articles may
// call: network, randomness and host inspection are left out unless named here.
type RegoCapabilities struct {
	Pos   Pos
	Allow []Builtin
}

// Builtin names an OPA builtin function, where the charter names it.
type Builtin struct {
	Pos  Pos
	Name string
}

// PodTemplate declares a custom resource kind that embeds a pod template, so
// articles written for Pod cover it as they cover Deployments.
type PodTemplate struct {
	Pos      Pos
	APIGroup string // empty: any group
	Kind     string
	Path     string // dotted field names, e.g. spec.template
}

// Template is the template in package podtemplate's terms.
func (p PodTemplate) Template() podtemplate.Template {
	g := p.APIGroup
	if g == "" {
		g = podtemplate.AnyGroup
	}
	return podtemplate.Template{APIGroup: g, Kind: p.Kind, Path: strings.Split(p.Path, ".")}
}

// templates converts a charter's pod templates.
func templates(pts []PodTemplate) []podtemplate.Template {
	out := make([]podtemplate.Template, 0, len(pts))
	for _, p := range pts {
		out = append(out, p.Template())
	}
	return out
}

// PodTemplateTable is the table of pod templates this charter reads: the
// built-in kinds and its spec.podTemplates (validated when parsed and merged).
func (c *Charter) PodTemplateTable() (*podtemplate.Table, error) {
	return podtemplate.New(templates(c.Spec.PodTemplates))
}

// Include names another charter whose articles this one adopts.
type Include struct {
	Pos  Pos
	Path string // as written, relative to the including file
}

// Defaults apply to every article that does not say otherwise.
type Defaults struct {
	Action   string
	Severity string
}

// Scope limits where the whole charter applies.
type Scope struct {
	Namespaces        []string
	ExcludeNamespaces []string
}

// Council lists the custodians whose k-of-n approval makes an override count.
type Council struct {
	Pos       Pos
	Threshold int
	Keys      []CouncilKey
	// MaxLifetime is the longest an override may last (expires - notBefore);
	// DefaultMaxLifetime when the charter does not say.
	MaxLifetime time.Duration
	// Revoked lists override ids that never count, whatever their signatures.
	Revoked []string
}

// DefaultMaxLifetime is the longest an override may last when the council
// does not set maxLifetime.
const DefaultMaxLifetime = 24 * time.Hour

// CouncilKey is one custodian's public key file, as the charter names it.
// Load reads the file (relative to the charter that names it) into PEM; the
// compiler embeds the key itself into the bundle, never the file name alone.
type CouncilKey struct {
	Pos  Pos
	Path string
	PEM  []byte
}

// Article is one governance rule.
type Article struct {
	Pos         Pos
	ID          string
	Title       string
	Description string
	Severity    string // resolved against defaults
	Action      string // resolved against defaults
	Match       Match
	Foreach     *Foreach
	Violation   *Condition
	Rego        string
	RegoPos     Pos // where the body's text starts: row 1, column 1 of Rego
	// RegoCapabilities is the spec.regoCapabilities of the charter the
	// article is written in (nil for none): included articles keep their own.
	RegoCapabilities *RegoCapabilities
	Message          *Template
	Tests            []*Test
	Runtime          *Runtime
	Overrides        []string // ids of articles this one replaces when both are in a charter
	Origin           string   // file the article was written in (differs from the charter's when included)
	// Invalid is set when the article had errors of its own while parsing:
	// validation leaves it out of the compile phase, so the other articles'
	// compile errors are reported together with its parse errors.
	Invalid bool
}

// Match selects the objects and requests an article applies to.
type Match struct {
	Kinds             []string
	KindPos           []Pos // where each of Kinds is written
	Operations        []string
	Namespaces        []string
	ExcludeNamespaces []string
	LabelSelector     *LabelSelector
}

// CoversPods reports whether the article is written for Pods, and so also
// applies to every object that embeds a pod template.
func (m Match) CoversPods() bool {
	for _, k := range m.Kinds {
		if k == "Pod" || k == "*" {
			return true
		}
	}
	return false
}

// LabelSelector is the Kubernetes label selector, over the object's labels.
type LabelSelector struct {
	MatchLabels      map[string]string
	MatchExpressions []LabelRequirement
}

// LabelRequirement is one matchExpressions entry.
type LabelRequirement struct {
	Key      string
	Operator string // In, NotIn, Exists, DoesNotExist
	Values   []string
}

// Foreach binds each element of a list to a name for conditions and messages.
type Foreach struct {
	Pos  Pos
	Over string // "containers", "volumes", or a path
	Path *Path  // nil for containers and volumes
	As   string // the bound name
}

// Condition is a node of a violation tree: exactly one of Any, All, Not or a leaf.
type Condition struct {
	Pos  Pos
	Any  []*Condition
	All  []*Condition
	Not  *Condition
	Leaf *Leaf
	// Cluster asks about other objects of the cluster (cluster data).
	Cluster *ClusterQuery
	Index   int // position in a depth-first walk, assigned by the compiler's numbering
}

// Leaf is path-op-value. With ValuesFrom (in and notIn only) the operand is
// every value another path reaches: a join of two lists of one object by key.
type Leaf struct {
	Path       *Path
	Op         string
	Value      any
	HasValue   bool
	ValuesFrom *Path
	Param      string // the parameter whose value is the operand (bound when instantiated)
	ValuePos   Pos
}

// Test is an inline test of an article.
type Test struct {
	Pos     Pos
	Name    string
	File    string // resolved against the article's source file
	FilePos Pos    // where file: is written
	Object  map[string]any
	Expect  string // deny, warn, audit or allow (the first of Expects for a list)
	// Expects, when expect is a list, is one expectation per document of
	// the test's file, in order.
	Expects []string
	// Cluster are the other objects of the cluster the test decides in
	// (the data of cluster queries).
	Cluster []map[string]any
}

// ExpectFor is the expectation for the i-th object of the test.
func (t *Test) ExpectFor(i int) string {
	if i < len(t.Expects) {
		return t.Expects[i]
	}
	return t.Expect
}
