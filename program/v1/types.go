package v1

import "github.com/charter-dev/charter/podtemplate"

// Version is the program version these types describe.
const Version = 1

// Program is the declarative part of a compiled charter, in the form the
// engine evaluates natively. It decides exactly as the bundle's generated
// Rego does.
type Program struct {
	Version  int       `json:"version"`
	Scope    Scope     `json:"scope"`
	Articles []Article `json:"articles"`
	// PodTemplates is where each kind keeps its pod, built-in kinds included;
	// absent in programs written before it existed (the built-in table).
	PodTemplates []podtemplate.Template `json:"podTemplates,omitempty"`
}

// Scope is the charter-wide namespace scope (globs).
type Scope struct {
	Namespaces        []string `json:"namespaces,omitempty"`
	ExcludeNamespaces []string `json:"excludeNamespaces,omitempty"`
}

// Article is one admission article, declarative or a raw-Rego hatch.
type Article struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Action   Action `json:"action"`
	Severity string `json:"severity"`
	Package  string `json:"package"` // the Rego package of the article's module
	// Kinds are the match kinds; CoversPods extends them to every kind with a
	// pod template; CheckKind says whether the kind is tested at all.
	Kinds      []string `json:"kinds"`
	CoversPods bool     `json:"coversPods,omitempty"`
	CheckKind  bool     `json:"checkKind,omitempty"`
	// Pods: the article is decided once per pod the object embeds.
	Pods bool `json:"pods,omitempty"`
	// Operations the article decides; AnyOperation for "*".
	Operations        []string       `json:"operations,omitempty"`
	AnyOperation      bool           `json:"anyOperation,omitempty"`
	Namespaces        []string       `json:"namespaces,omitempty"`
	ExcludeNamespaces []string       `json:"excludeNamespaces,omitempty"`
	LabelSelector     *LabelSelector `json:"labelSelector,omitempty"`
	Foreach           Foreach        `json:"foreach,omitempty"`
	Each              *Path          `json:"each,omitempty"` // the list walked by ForeachPath
	Violation         *Condition     `json:"violation,omitempty"`
	Hatch             bool           `json:"hatch,omitempty"` // a raw Rego body: OPA decides it
	Message           []Part         `json:"message"`
}

// Action is what a finding of the article does.
type Action string

// Actions.
const (
	ActionDeny  Action = "deny"
	ActionWarn  Action = "warn"
	ActionAudit Action = "audit"
)

// Foreach says what an article iterates.
type Foreach string

// Foreach forms; the empty string is no iteration.
const (
	ForeachNone       Foreach = ""
	ForeachContainers Foreach = "containers" // init, regular and ephemeral containers of each pod
	ForeachVolumes    Foreach = "volumes"    // spec.volumes of each pod
	ForeachPath       Foreach = "path"       // every element reached by Each
)

// LabelSelector is a Kubernetes label selector over the object's labels.
type LabelSelector struct {
	MatchLabels      map[string]string  `json:"matchLabels,omitempty"`
	MatchExpressions []LabelRequirement `json:"matchExpressions,omitempty"`
}

// LabelRequirement is one matchExpressions entry.
type LabelRequirement struct {
	Key      string           `json:"key"`
	Operator SelectorOperator `json:"operator"`
	Values   []string         `json:"values,omitempty"`
}

// SelectorOperator is a label requirement's operator.
type SelectorOperator string

// Label selector operators.
const (
	SelectorIn           SelectorOperator = "In"
	SelectorNotIn        SelectorOperator = "NotIn"
	SelectorExists       SelectorOperator = "Exists"
	SelectorDoesNotExist SelectorOperator = "DoesNotExist"
)

// Condition is a violation node: exactly one of Any, All, Not or Leaf.
type Condition struct {
	Any     []*Condition  `json:"any,omitempty"`
	All     []*Condition  `json:"all,omitempty"`
	Not     *Condition    `json:"not,omitempty"`
	Leaf    *Leaf         `json:"leaf,omitempty"`
	Cluster *ClusterQuery `json:"cluster,omitempty"`
}

// ClusterQuery asks whether some object of Kind in the cluster data
// (data.charter.cluster[kind][namespace][name]), other than the object
// under review, qualifies: in the object's namespace (SameNamespace), named
// by a value of Name, satisfying every Where leaf (paths from RootOther, the
// candidate), and whose spec.selector.matchLabels select the labels at
// Selects. Op is exists or absent.
type ClusterQuery struct {
	Kind          string   `json:"kind"`
	SameNamespace bool     `json:"sameNamespace,omitempty"`
	Name          *Path    `json:"name,omitempty"`
	Where         []*Leaf  `json:"where,omitempty"`
	Selects       *Path    `json:"selects,omitempty"`
	Op            Operator `json:"op"`
	// Static is the finding's path: the name path up to its first wildcard.
	Static string `json:"static,omitempty"`
}

// Leaf is path-op-value.
type Leaf struct {
	Path Path     `json:"path"`
	Op   Operator `json:"op"`
	// Value is the operand of every operator but exists, absent and the
	// comparisons (a JSON value; a list for in and notIn).
	Value any `json:"value,omitempty"`
	// Number is the operand of lt, lte, gt and gte as decimal text, quantities
	// already converted, exactly as the Rego compares it.
	Number string `json:"number,omitempty"`
	// Static is, for absent and changed, the path up to its first wildcard as
	// the witness prints it.
	Static string `json:"static,omitempty"`
	// ValuesFrom is, for in and notIn, the path whose values are the operand
	// (a join of two lists by key) instead of Value.
	ValuesFrom *Path `json:"valuesFrom,omitempty"`
}

// Operator is a leaf's operator.
type Operator string

// Operators.
const (
	OpEquals      Operator = "equals"
	OpNotEquals   Operator = "notEquals"
	OpIn          Operator = "in"
	OpNotIn       Operator = "notIn"
	OpExists      Operator = "exists"
	OpAbsent      Operator = "absent"
	OpMatches     Operator = "matches"
	OpNotMatches  Operator = "notMatches"
	OpGlob        Operator = "glob"
	OpNotGlob     Operator = "notGlob"
	OpPrefix      Operator = "prefix"
	OpNotPrefix   Operator = "notPrefix"
	OpSuffix      Operator = "suffix"
	OpNotSuffix   Operator = "notSuffix"
	OpContains    Operator = "contains"
	OpNotContains Operator = "notContains"
	OpLt          Operator = "lt"
	OpLte         Operator = "lte"
	OpGt          Operator = "gt"
	OpGte         Operator = "gte"
	// The update operators compare the object with the request's oldObject
	// at the same path (rooted at object); they hold only when the request
	// has an oldObject.
	OpChanged Operator = "changed" // the path reaches other values than in oldObject
	OpRemoved Operator = "removed" // some value in oldObject is not in the object
	OpAdded   Operator = "added"   // some value in the object is not in oldObject
)

// Operators lists every operator of version 1.
var Operators = []Operator{
	OpEquals, OpNotEquals, OpIn, OpNotIn, OpExists, OpAbsent, OpMatches, OpNotMatches,
	OpGlob, OpNotGlob, OpPrefix, OpNotPrefix, OpSuffix, OpNotSuffix, OpContains, OpNotContains,
	OpLt, OpLte, OpGt, OpGte, OpChanged, OpRemoved, OpAdded,
}

// Path is a path from a root.
type Path struct {
	Root  Root   `json:"root"`
	Steps []Step `json:"steps,omitempty"`
}

// Root is where a path starts.
type Root string

// Roots.
const (
	RootObject  Root = "object"  // the object under review
	RootPod     Root = "pod"     // the pod being decided (the object or its template)
	RootElement Root = "element" // the foreach element
	RootRequest Root = "request" // the admission request
	// RootOldObject is the request's oldObject (UPDATE, DELETE); a path from
	// it reaches nothing when the request has none.
	RootOldObject Root = "oldObject"
	// RootOther is the candidate object of a cluster query's where leaf.
	RootOther Root = "other"
)

// Step is one step of a path. Text is how a field or index step prints in
// a finding's path (".name", `["a.b"]`, "[3]").
type Step struct {
	Kind  StepKind `json:"kind"`
	Name  string   `json:"name,omitempty"`  // field name, or glob over map keys
	Index int      `json:"index,omitempty"` // list index
	Text  string   `json:"text,omitempty"`
}

// StepKind says what a step does.
type StepKind string

// Step kinds.
const (
	StepField StepKind = "field" // an object field
	StepIndex StepKind = "index" // one list element
	StepAll   StepKind = "all"   // every list element or map value
	StepGlob  StepKind = "glob"  // map values whose key matches Name
)

// Part is one piece of a message: text, a path placeholder, or a witness.
type Part struct {
	Text    string  `json:"text,omitempty"`
	Ref     *Path   `json:"ref,omitempty"`
	Witness Witness `json:"witness,omitempty"`
}

// Witness names a property of a finding's offending values.
type Witness string

// Witnesses.
const (
	WitnessValue  Witness = "value"  // the first offending value
	WitnessValues Witness = "values" // every distinct offending value
	WitnessField  Witness = "field"  // the first offending value's path
)
