package report

import (
	"encoding/json"
	"io"
	"sort"
)

// PolicyReport writes wgpolicyk8s.io/v1alpha2 reports as a v1 List: a
// PolicyReport per namespace and a ClusterPolicyReport for cluster-scoped
// objects. Findings are fail (deny), warn (warn) or info-level fail (audit);
// an object with no finding gets a pass result, one that could not be
// decided an error result naming the error.
type PolicyReport struct{}

type prResource struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

type prResult struct {
	Source     string            `json:"source"`
	Policy     string            `json:"policy"`
	Rule       string            `json:"rule,omitempty"`
	Result     string            `json:"result"`
	Severity   string            `json:"severity,omitempty"`
	Message    string            `json:"message,omitempty"`
	Scored     bool              `json:"scored"`
	Resources  []prResource      `json:"resources"`
	Properties map[string]string `json:"properties,omitempty"`
}

type prSummary struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Warn  int `json:"warn"`
	Error int `json:"error"`
	Skip  int `json:"skip"`
}

type prReport struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   map[string]any    `json:"metadata"`
	Scope      *prResource       `json:"scope,omitempty"`
	Summary    prSummary         `json:"summary"`
	Results    []prResult        `json:"results"`
	Labels     map[string]string `json:"-"`
}

func prOutcome(action string) string {
	switch action {
	case "deny":
		return "fail"
	case "warn":
		return "warn"
	}
	return "fail" // audit: recorded, not enforced; severity tells the reader how much it matters
}

func (pr PolicyReport) Write(w io.Writer, p Policy, results []Result) error {
	return writeAll(pr.Stream(w, p), results)
}

// Stream gathers the reports' results as they come (a pass per clean
// object, one result per finding) and writes the List on Close, one report
// at a time, since each opens with its summary.
func (PolicyReport) Stream(w io.Writer, p Policy) Stream {
	return &policyReportStream{w: w, set: NewPolicyReportSet(p)}
}

type policyReportStream struct {
	w   io.Writer
	set *PolicyReportSet
}

func (s *policyReportStream) Add(r Result) error {
	s.set.Add(r)
	return nil
}

func (s *policyReportStream) Close() error {
	list := newArrayStream(s.w, map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{}}, "items")
	for _, r := range s.set.reports() {
		if err := list.add(r); err != nil {
			return err
		}
	}
	return list.close()
}

// PolicyReportSet gathers the PolicyReports of a scan as its results come:
// a PolicyReport per namespace and a ClusterPolicyReport for cluster-scoped
// objects. It keeps their results, not the Results.
type PolicyReportSet struct {
	p    Policy
	byNS map[string]*prReport
}

// NewPolicyReportSet starts an empty set of the reports of policy p.
func NewPolicyReportSet(p Policy) *PolicyReportSet {
	return &PolicyReportSet{p: p, byNS: map[string]*prReport{}}
}

// Add puts the results of one object into its namespace's report.
func (s *PolicyReportSet) Add(r Result) {
	p := s.p
	rep, ok := s.byNS[r.Namespace]
	if !ok {
		rep = &prReport{APIVersion: "wgpolicyk8s.io/v1alpha2", Kind: "PolicyReport", Results: []prResult{}}
		name := "charter-" + p.Name
		rep.Metadata = map[string]any{"name": name, "namespace": r.Namespace, "labels": map[string]string{"app.kubernetes.io/managed-by": "charter"}}
		if r.Namespace == "" {
			rep.Kind = "ClusterPolicyReport"
			rep.Metadata = map[string]any{"name": name, "labels": map[string]string{"app.kubernetes.io/managed-by": "charter"}}
		}
		s.byNS[r.Namespace] = rep
	}
	res := prResource{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, Namespace: r.Namespace}
	if r.Error != "" {
		rep.Results = append(rep.Results, prResult{Source: "charter", Policy: p.Name, Result: "error", Message: "could not be decided: " + r.Error, Scored: true, Resources: []prResource{res}})
		rep.Summary.Error++
		return
	}
	if len(r.Violations) == 0 {
		rep.Results = append(rep.Results, prResult{Source: "charter", Policy: p.Name, Result: "pass", Scored: true, Resources: []prResource{res}})
		rep.Summary.Pass++
		return
	}
	for _, v := range r.Violations {
		out := prOutcome(v.Action)
		pr := prResult{Source: "charter", Policy: p.Name, Rule: v.Article, Result: out, Severity: v.Severity, Message: v.Message, Scored: true, Resources: []prResource{res},
			Properties: map[string]string{"action": v.Action}}
		if v.Path != "" {
			pr.Properties["path"] = v.Path
		}
		rep.Results = append(rep.Results, pr)
		if out == "warn" {
			rep.Summary.Warn++
		} else {
			rep.Summary.Fail++
		}
	}
}

// Objects are the reports as objects to apply: a PolicyReport per
// namespace (in namespace order), then a ClusterPolicyReport when some
// object is cluster-scoped.
func (s *PolicyReportSet) Objects() ([]map[string]any, error) {
	var out []map[string]any
	for _, r := range s.reports() {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// reports are the set's reports in the order of Objects.
func (s *PolicyReportSet) reports() []*prReport {
	keys := make([]string, 0, len(s.byNS))
	for k := range s.byNS {
		if k != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := s.byNS[""]; ok {
		keys = append(keys, "")
	}
	items := make([]*prReport, 0, len(keys))
	for _, k := range keys {
		items = append(items, s.byNS[k])
	}
	return items
}
