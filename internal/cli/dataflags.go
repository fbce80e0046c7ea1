package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// dataOptions is --data: the objects of the cluster that cluster queries
// look among (data.charter.cluster), read like the manifests of eval.
type dataOptions struct {
	Paths []string
	// Empty decides cluster queries against a cluster without objects, on
	// purpose (--empty-cluster): exists never holds, absent always does.
	Empty bool
}

func (o *dataOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&o.Paths, "data", nil, "files or directories of cluster objects (Namespaces, StorageClasses, PodDisruptionBudgets...) that cluster queries look among")
}

// AddRequiredFlags adds --data and --empty-cluster: for commands that refuse
// a charter with cluster queries unless told what the cluster holds.
func (o *dataOptions) AddRequiredFlags(cmd *cobra.Command) {
	o.AddFlags(cmd)
	cmd.Flags().BoolVar(&o.Empty, "empty-cluster", false, "decide cluster queries against a cluster without objects (exists never holds, absent always does) instead of requiring --data")
}

// require is apply for eval and scan of files: a charter whose articles
// query cluster data is refused (bad input, naming the kinds) unless --data
// gives the objects or --empty-cluster says there are none. Without this, an
// exists query would silently never fire.
func (o *dataOptions) require(ctx context.Context, e *engine.Engine) (*engine.Engine, error) {
	es, err := o.requireAll(ctx, e)
	if err != nil {
		return nil, err
	}
	return es[0], nil
}

// requireAll is require for several engines at once (charter diff's old and
// new policy): refused when any of them queries cluster data without --data
// or --empty-cluster, naming the kinds of all; --data is read once.
func (o *dataOptions) requireAll(ctx context.Context, es ...*engine.Engine) ([]*engine.Engine, error) {
	if o.Empty && len(o.Paths) > 0 {
		return nil, badInput(errors.New("give --data or --empty-cluster, not both"))
	}
	if kinds := clusterKinds(es); len(kinds) > 0 && len(o.Paths) == 0 && !o.Empty {
		whose := "this charter"
		if len(es) > 1 {
			whose = "these charters"
		}
		return nil, badInput(fmt.Errorf("articles of %s query cluster data (kinds %s): give those objects with --data FILE|DIR "+
			"(e.g. kubectl get %s -A -o yaml > cluster.yaml), or --empty-cluster to decide them against a cluster without objects",
			whose, strings.Join(kinds, ", "), strings.ToLower(strings.Join(kinds, ","))))
	}
	return o.applyAll(ctx, es)
}

// clusterKinds are the kinds the cluster queries of any of es read, sorted.
func clusterKinds(es []*engine.Engine) []string {
	kinds := sets.New[string]()
	for _, e := range es {
		kinds.Insert(e.ClusterKinds()...)
	}
	return sets.List(kinds)
}

// apply returns e with the cluster data read from --data; e itself without it.
func (o *dataOptions) apply(ctx context.Context, e *engine.Engine) (*engine.Engine, error) {
	es, err := o.applyAll(ctx, []*engine.Engine{e})
	if err != nil {
		return nil, err
	}
	return es[0], nil
}

// applyAll is apply for several engines, reading --data once.
func (o *dataOptions) applyAll(ctx context.Context, es []*engine.Engine) ([]*engine.Engine, error) {
	if len(o.Paths) == 0 {
		return es, nil
	}
	for _, p := range o.Paths {
		if p == "-" {
			return nil, badInput(fmt.Errorf("--data: - (stdin) is for the manifests; give cluster objects as files or directories"))
		}
	}
	sources, errs := manifest.Sources(o.Paths, nil)
	var objects []map[string]any
	for _, s := range sources {
		docs, bad := s.Docs()
		errs = append(errs, bad...)
		for _, d := range docs {
			objects = append(objects, d.Object)
		}
	}
	if len(errs) > 0 {
		return nil, badInput(fmt.Errorf("--data: %w", errs))
	}
	if len(objects) == 0 {
		return nil, badInput(fmt.Errorf("--data: no Kubernetes objects in %v", o.Paths))
	}
	doc := engine.ClusterDocument(objects)
	out := make([]*engine.Engine, len(es))
	for i, e := range es {
		de, err := e.WithClusterData(ctx, doc)
		if err != nil {
			return nil, badInput(fmt.Errorf("--data: %w", err))
		}
		out[i] = de
	}
	return out, nil
}

// liveClusterData is e with the cluster data of a live scan: every object
// of the kinds the articles' cluster queries read, listed from the cluster
// (all namespaces, a page at a time). e itself when it has no cluster query.
func liveClusterData(ctx context.Context, c *cluster, e *engine.Engine, chunk int64, warn io.Writer) (*engine.Engine, error) {
	es, err := liveClusterDataAll(ctx, c, chunk, warn, e)
	if err != nil {
		return nil, err
	}
	return es[0], nil
}

// liveClusterDataAll is liveClusterData for several engines (charter diff's
// old and new policy): the kinds of all of them listed once.
func liveClusterDataAll(ctx context.Context, c *cluster, chunk int64, warn io.Writer, es ...*engine.Engine) ([]*engine.Engine, error) {
	kinds := clusterKinds(es)
	if len(kinds) == 0 {
		return es, nil
	}
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	res, err := c.resources(want, false, false, warn)
	if err != nil {
		return nil, err
	}
	found := sets.New[string]()
	var objects []map[string]any
	for _, r := range res {
		found.Insert(r.kind)
		opts := metav1.ListOptions{Limit: chunk}
		for {
			page, err := c.dyn.Resource(r.gvr).List(ctx, opts)
			if err != nil {
				return nil, fmt.Errorf("cluster data: list %s: %w", r, err)
			}
			for i := range page.Items {
				obj := page.Items[i].Object
				obj["apiVersion"], obj["kind"] = r.gvr.GroupVersion().String(), r.kind
				objects = append(objects, obj)
			}
			if opts.Continue = page.GetContinue(); opts.Continue == "" {
				break
			}
		}
	}
	if missing := sets.List(sets.New(kinds...).Difference(found)); len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("cluster data: the cluster serves no kind %s that the articles' cluster queries read", strings.Join(missing, ", "))
	}
	doc := engine.ClusterDocument(objects)
	out := make([]*engine.Engine, len(es))
	for i, e := range es {
		de, err := e.WithClusterData(ctx, doc)
		if err != nil {
			return nil, err
		}
		out[i] = de
	}
	return out, nil
}
