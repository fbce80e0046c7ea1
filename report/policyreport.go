package report

import (
	"encoding/json"
	"io"
	"sort"
)

// PolicyReport writes wgpolicyk8s.io/v1alpha2 reports as a v1 List: a
// PolicyReport per namespace and a ClusterPolicyReport for cluster-scoped
// objects. Findings are fail (deny), warn (warn) or info-level fail (audit);
// an object with no finding gets a pass result.
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

func (PolicyReport) Write(w io.Writer, p Policy, results []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": policyReports(p, results)})
}

// PolicyReports are the reports Write lists, as objects to apply: a
// PolicyReport per namespace (in namespace order), then a
// ClusterPolicyReport when some object is cluster-scoped.
func PolicyReports(p Policy, results []Result) ([]map[string]any, error) {
	var out []map[string]any
	for _, r := range policyReports(p, results) {
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

func policyReports(p Policy, results []Result) []*prReport {
	byNS := map[string]*prReport{}
	for _, r := range results {
		rep, ok := byNS[r.Namespace]
		if !ok {
			rep = &prReport{APIVersion: "wgpolicyk8s.io/v1alpha2", Kind: "PolicyReport", Results: []prResult{}}
			name := "charter-" + p.Name
			rep.Metadata = map[string]any{"name": name, "namespace": r.Namespace, "labels": map[string]string{"app.kubernetes.io/managed-by": "charter"}}
			if r.Namespace == "" {
				rep.Kind = "ClusterPolicyReport"
				rep.Metadata = map[string]any{"name": name, "labels": map[string]string{"app.kubernetes.io/managed-by": "charter"}}
			}
			byNS[r.Namespace] = rep
		}
		res := prResource{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, Namespace: r.Namespace}
		if len(r.Violations) == 0 {
			rep.Results = append(rep.Results, prResult{Source: "charter", Policy: p.Name, Result: "pass", Scored: true, Resources: []prResource{res}})
			rep.Summary.Pass++
			continue
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
	keys := make([]string, 0, len(byNS))
	for k := range byNS {
		if k != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if _, ok := byNS[""]; ok {
		keys = append(keys, "")
	}
	items := make([]*prReport, 0, len(keys))
	for _, k := range keys {
		items = append(items, byNS[k])
	}
	return items
}
