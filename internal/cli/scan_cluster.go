package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/report"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
)

// clusterOptions choose a live cluster: kubeconfig, context, namespace.
type clusterOptions struct {
	Kubeconfig string
	Context    string
	Namespace  string
	ChunkSize  int64
}

func (o *clusterOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to read (default: $KUBECONFIG, then ~/.kube/config)")
	cmd.Flags().StringVar(&o.Context, "context", "", "kubeconfig context (default: the current one)")
	cmd.Flags().StringVarP(&o.Namespace, "namespace", "n", "", "read only this namespace (and no cluster-scoped objects); default: all")
	cmd.Flags().Int64Var(&o.ChunkSize, "chunk-size", 500, "objects per list request (limit/continue): memory stays bounded by a page")
}

func (o *clusterOptions) set() bool {
	return o.Kubeconfig != "" || o.Context != "" || o.Namespace != ""
}

// cluster is a connection to a live apiserver.
type cluster struct {
	dyn  dynamic.Interface
	disc discovery.DiscoveryInterface
}

func (o *clusterOptions) connect() (*cluster, error) {
	if o.ChunkSize <= 0 {
		return nil, fmt.Errorf("--chunk-size must be positive, not %d", o.ChunkSize)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &cluster{dyn: dyn, disc: disc}, nil
}

// apiResource is one listable resource in its preferred version.
type apiResource struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
}

func (r apiResource) String() string {
	if r.gvr.Group == "" {
		return r.gvr.Version + "/" + r.gvr.Resource
	}
	return r.gvr.Group + "/" + r.gvr.Version + "/" + r.gvr.Resource
}

// scanKinds is what the charters' articles match: their kinds, Pod
// standing for every kind with a pod template; all is true when some
// article matches every kind.
func scanKinds(es ...*engine.Engine) (kinds map[string]bool, all bool) {
	kinds = map[string]bool{}
	for _, e := range es {
		info := e.Bundle().Info
		for _, a := range info.Articles {
			for _, k := range a.Kinds {
				kinds[k] = true
				if k == "Pod" {
					for _, t := range info.PodTemplates {
						kinds[t.Kind] = true
					}
				}
			}
		}
	}
	return kinds, kinds["*"]
}

// resources lists, through discovery (CRDs included), the listable
// resources of the kinds the charter matches, in a stable order. A group
// that fails discovery is reported and skipped when others answered.
func (c *cluster) resources(kinds map[string]bool, all, namespacedOnly bool, warn io.Writer) ([]apiResource, error) {
	lists, err := c.disc.ServerPreferredResources()
	if err != nil {
		var partial *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &partial) || len(lists) == 0 {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		fmt.Fprintf(warn, "charter: discovery: %v (scanning the groups that answered)\n", err)
	}
	var out []apiResource
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || (namespacedOnly && !r.Namespaced) {
				continue
			}
			if !all && !kinds[r.Kind] {
				continue
			}
			out = append(out, apiResource{gvr: gv.WithResource(r.Name), kind: r.Kind, namespaced: r.Namespaced})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// clusterScan reads every object of the kinds a charter matches, a page
// at a time, handing each to visit.
type clusterScan struct {
	cluster   *cluster
	kinds     map[string]bool
	all       bool
	namespace string
	chunk     int64
	progress  *progress
	// visit decides one object (its apiVersion and kind set) and says
	// whether it was denied, for the progress counts.
	visit func(ctx context.Context, r apiResource, u *unstructured.Unstructured) (denied bool, err error)
}

func (s *clusterScan) run(ctx context.Context) error {
	res, err := s.cluster.resources(s.kinds, s.all, s.namespace != "", s.progress.w)
	if err != nil {
		return err
	}
	for _, r := range res {
		if err := s.scanResource(ctx, r); err != nil {
			return fmt.Errorf("list %s: %w", r, err)
		}
	}
	return nil
}

// scanResource pages through one resource with limit and continue: only one
// page of objects is held at a time.
func (s *clusterScan) scanResource(ctx context.Context, r apiResource) error {
	client := s.cluster.dyn.Resource(r.gvr).Namespace(s.namespace)
	objects, denied := 0, 0
	opts := metav1.ListOptions{Limit: s.chunk}
	for {
		page, err := client.List(ctx, opts)
		if err != nil {
			return err
		}
		for i := range page.Items {
			item := &page.Items[i]
			item.SetAPIVersion(r.gvr.GroupVersion().String())
			item.SetKind(r.kind)
			d, err := s.visit(ctx, r, item)
			if err != nil {
				return err
			}
			objects++
			if d {
				denied++
			}
		}
		s.progress.update(r.String(), objects, denied, page.GetRemainingItemCount())
		if opts.Continue = page.GetContinue(); opts.Continue == "" {
			break
		}
	}
	s.progress.done(r.String(), objects, denied)
	return nil
}

// scanCluster decides every matched object of the cluster with e as it is
// read, streaming the report; with apply, the PolicyReports are then
// server-side applied. Only their results are kept, not the objects.
func (r *reportRun) scanCluster(ctx context.Context, c *cluster, o clusterOptions, e *engine.Engine, apply bool, log io.Writer) error {
	r.policy = policyOf(e)
	var reports *report.PolicyReportSet
	if apply {
		reports = report.NewPolicyReportSet(r.policy)
		r.also = append(r.also, func(res report.Result) error { reports.Add(res); return nil })
	}
	kinds, all := scanKinds(e)
	sc := &clusterScan{cluster: c, kinds: kinds, all: all, namespace: o.Namespace, chunk: o.ChunkSize, progress: r.progress,
		visit: func(ctx context.Context, ar apiResource, u *unstructured.Unstructured) (bool, error) {
			res, err := decideLive(ctx, e, ar, u)
			if err != nil {
				// In the report like a decision; the scan goes on and exits 2.
				res = report.Result{File: apiPath(ar, u), APIVersion: u.GetAPIVersion(), Kind: ar.kind, Namespace: u.GetNamespace(), Name: u.GetName(), Error: err.Error()}
			}
			return !res.Allowed && res.Error == "", r.add(res)
		}}
	// The report of what was read is completed even when a list fails.
	err := sc.run(ctx)
	if cerr := r.close(); cerr != nil {
		return cerr
	}
	if err != nil {
		return badInput(err)
	}
	if apply {
		if err := c.applyReports(ctx, reports, log); err != nil {
			return badInput(err)
		}
	}
	return r.verdict(nil)
}

// decideLive decides one live object, converted as the engine reads
// manifests (JSON numbers as json.Number). File is the object's API path.
func decideLive(ctx context.Context, e *engine.Engine, r apiResource, u *unstructured.Unstructured) (report.Result, error) {
	b, err := u.MarshalJSON()
	if err != nil {
		return report.Result{}, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return report.Result{}, err
	}
	dec, applied, err := e.DecideApplied(ctx, obj, nil)
	if err != nil {
		return report.Result{}, fmt.Errorf("%s %s/%s: %w", r.kind, u.GetNamespace(), u.GetName(), err)
	}
	res := report.Result{File: apiPath(r, u), APIVersion: u.GetAPIVersion(), Kind: r.kind, Namespace: u.GetNamespace(), Name: u.GetName(), Allowed: dec.Allowed, ArticlesApplied: report.Applied(applied)}
	for _, f := range dec.All() {
		res.Violations = append(res.Violations, report.Violation{Article: f.Article, Action: f.Action, Severity: f.Severity, Message: f.Message, Path: f.Path})
	}
	return res, nil
}

// apiPath is where the apiserver serves the object.
func apiPath(r apiResource, u *unstructured.Unstructured) string {
	base := "/apis/" + r.gvr.Group + "/" + r.gvr.Version
	if r.gvr.Group == "" {
		base = "/api/" + r.gvr.Version
	}
	if r.namespaced {
		base += "/namespaces/" + u.GetNamespace()
	}
	return path.Join(base, r.gvr.Resource, u.GetName())
}

var (
	policyReportGVR        = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
	clusterPolicyReportGVR = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "clusterpolicyreports"}
)

// applyReports server-side applies the scan's PolicyReports (field manager
// charter, forcing its own fields), creating or updating each.
func (c *cluster) applyReports(ctx context.Context, set *report.PolicyReportSet, log io.Writer) error {
	reports, err := set.Objects()
	if err != nil {
		return err
	}
	for _, obj := range reports {
		u := &unstructured.Unstructured{Object: obj}
		client := c.dyn.Resource(clusterPolicyReportGVR).Namespace("")
		if u.GetKind() == "PolicyReport" {
			client = c.dyn.Resource(policyReportGVR).Namespace(u.GetNamespace())
		}
		if _, err := client.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "charter", Force: true}); err != nil {
			return fmt.Errorf("apply %s %s: %w (is the wgpolicyk8s.io/v1alpha2 CRD installed?)", u.GetKind(), path.Join(u.GetNamespace(), u.GetName()), err)
		}
		fmt.Fprintf(log, "applied %s %s\n", u.GetKind(), path.Join(u.GetNamespace(), u.GetName()))
	}
	return nil
}
