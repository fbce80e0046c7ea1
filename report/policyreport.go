package report

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strings"
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

// Stream writes each object's results to a spool as they come (a pass per
// clean object, one result per finding), keeping per namespace only the
// report's summary and where its results lie in the spool; Close writes the
// List, one report at a time, since each opens with its summary: the bytes
// of encoding it whole.
func (PolicyReport) Stream(w io.Writer, p Policy) Stream {
	s := &policyReportStream{w: w, p: p, heads: map[string]*prReport{}, segs: map[string][]segment{}, body: newSpool()}
	var sample bytes.Buffer
	enc := json.NewEncoder(&sample)
	enc.SetIndent("", "  ")
	s.err = enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{newPRReport(p, "x")}})
	text, mark := sample.String(), `"results": []`
	at := strings.LastIndex(text, mark)
	s.indent = text[strings.LastIndex(text[:at], "\n")+1:at] + "  "
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetIndent(s.indent, "  ")
	s.enc.SetEscapeHTML(false)
	return s
}

// segment is a run of one report's results in the spool.
type segment struct{ off, n int64 }

type policyReportStream struct {
	w      io.Writer
	p      Policy
	heads  map[string]*prReport // each namespace's report without its results
	segs   map[string][]segment // and where they are: each ",\n" + indent + the result
	body   *spool
	indent string // of a result in the List
	buf    bytes.Buffer
	enc    *json.Encoder
	err    error
}

func (s *policyReportStream) Add(r Result) error {
	if s.err != nil {
		return s.err
	}
	head, ok := s.heads[r.Namespace]
	if !ok {
		head = newPRReport(s.p, r.Namespace)
		s.heads[r.Namespace] = head
	}
	for _, pr := range prResults(s.p, r) {
		head.Summary.count(pr)
		s.buf.Reset()
		s.buf.WriteString(",\n" + s.indent)
		if s.err = s.enc.Encode(pr); s.err != nil {
			return s.err
		}
		s.buf.Truncate(s.buf.Len() - 1) // Encode's newline
		off, n := s.body.Len(), int64(s.buf.Len())
		if _, s.err = s.body.Write(s.buf.Bytes()); s.err != nil {
			return s.err
		}
		segs := s.segs[r.Namespace]
		if last := len(segs) - 1; last >= 0 && segs[last].off+segs[last].n == off {
			segs[last].n += n
		} else {
			s.segs[r.Namespace] = append(segs, segment{off, n})
		}
	}
	return nil
}

func (s *policyReportStream) Close() error {
	defer s.body.Close()
	if s.err != nil {
		return s.err
	}
	list := newArrayStream(s.w, map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{}}, "items")
	for _, ns := range reportOrder(s.heads) {
		segs := s.segs[ns]
		err := list.addSplit(s.heads[ns], "results", func(w io.Writer) error {
			if _, err := io.WriteString(w, "["); err != nil {
				return err
			}
			for i, sg := range segs {
				if i == 0 {
					sg.off, sg.n = sg.off+1, sg.n-1 // the first result has no comma
				}
				if err := s.body.copyRange(w, sg.off, sg.n); err != nil {
					return err
				}
			}
			_, err := io.WriteString(w, "\n"+s.indent[:len(s.indent)-2]+"]")
			return err
		})
		if err != nil {
			s.err = err
			return err
		}
	}
	s.err = list.close()
	return s.err
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
	rep, ok := s.byNS[r.Namespace]
	if !ok {
		rep = newPRReport(s.p, r.Namespace)
		s.byNS[r.Namespace] = rep
	}
	for _, pr := range prResults(s.p, r) {
		rep.Results = append(rep.Results, pr)
		rep.Summary.count(pr)
	}
}

// newPRReport is the empty report of namespace ns: a ClusterPolicyReport
// for "".
func newPRReport(p Policy, ns string) *prReport {
	rep := &prReport{APIVersion: "wgpolicyk8s.io/v1alpha2", Kind: "PolicyReport", Results: []prResult{}}
	name := "charter-" + p.Name
	rep.Metadata = map[string]any{"name": name, "namespace": ns, "labels": map[string]string{"app.kubernetes.io/managed-by": "charter"}}
	if ns == "" {
		rep.Kind = "ClusterPolicyReport"
		rep.Metadata = map[string]any{"name": name, "labels": map[string]string{"app.kubernetes.io/managed-by": "charter"}}
	}
	return rep
}

// prResults are the report results of one object: an error, a pass, or one
// per finding.
func prResults(p Policy, r Result) []prResult {
	res := prResource{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, Namespace: r.Namespace}
	if r.Error != "" {
		return []prResult{{Source: "charter", Policy: p.Name, Result: "error", Message: "could not be decided: " + r.Error, Scored: true, Resources: []prResource{res}}}
	}
	if len(r.Violations) == 0 {
		return []prResult{{Source: "charter", Policy: p.Name, Result: "pass", Scored: true, Resources: []prResource{res}}}
	}
	out := make([]prResult, 0, len(r.Violations))
	for _, v := range r.Violations {
		pr := prResult{Source: "charter", Policy: p.Name, Rule: v.Article, Result: prOutcome(v.Action), Severity: v.Severity, Message: v.Message, Scored: true, Resources: []prResource{res},
			Properties: map[string]string{"action": v.Action}}
		if v.Path != "" {
			pr.Properties["path"] = v.Path
		}
		out = append(out, pr)
	}
	return out
}

// count adds one result to the summary.
func (sum *prSummary) count(pr prResult) {
	switch pr.Result {
	case "pass":
		sum.Pass++
	case "warn":
		sum.Warn++
	case "error":
		sum.Error++
	default:
		sum.Fail++
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
	keys := reportOrder(s.byNS)
	items := make([]*prReport, 0, len(keys))
	for _, k := range keys {
		items = append(items, s.byNS[k])
	}
	return items
}

// reportOrder is the order of the reports: namespaces sorted, then the
// cluster's ("").
func reportOrder(byNS map[string]*prReport) []string {
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
	return keys
}
