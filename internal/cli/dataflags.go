package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/webhook"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/discovery"
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
// old and new policy). Each engine reads what the webhook's cache reads for
// its bundle (webhook.ServedClusterDataResources: the built-in resource of
// a kind and the group and plural of each custom kind of that name it
// declares, not every group serving the kind name), and of objects with
// one namespace and name the built-in resource's counts, as at admission. A
// resource several engines read is listed once.
func liveClusterDataAll(ctx context.Context, c *cluster, chunk int64, warn io.Writer, es ...*engine.Engine) ([]*engine.Engine, error) {
	if len(clusterKinds(es)) == 0 {
		return es, nil
	}
	lists, derr := c.disc.ServerPreferredResources()
	if derr != nil {
		var partial *discovery.ErrGroupDiscoveryFailed
		if !errors.As(derr, &partial) || len(lists) == 0 {
			return nil, fmt.Errorf("discovery: %w", derr)
		}
		fmt.Fprintf(warn, "charter: discovery: %v (reading cluster data from the groups that answered)\n", derr)
	}
	listed := map[kindResource][]map[string]any{}
	out := make([]*engine.Engine, len(es))
	for i, e := range es {
		var custom []compiler.CustomKind
		if b := e.Bundle(); b != nil {
			custom = b.Info.CustomKinds
		}
		var objects []map[string]any
		for _, kind := range e.ClusterKinds() {
			gvrs, unserved, err := webhook.ServedClusterDataResources(kind, custom, lists, derr)
			if err != nil {
				return nil, fmt.Errorf("cluster data: %w", err)
			}
			if len(unserved) > 0 {
				fmt.Fprintf(warn, "charter: cluster data: kind %s: %s (no objects read there)\n", kind, strings.Join(unserved, "; "))
			}
			seen := sets.New[[2]string]()
			for _, gvr := range gvrs { // built-in first: its object wins a clash
				r := kindResource{kind: kind, gvr: gvr}
				objs, ok := listed[r]
				if !ok {
					if objs, err = c.listAll(ctx, r, chunk); err != nil {
						return nil, err
					}
					listed[r] = objs
				}
				for _, obj := range objs {
					meta, _ := obj["metadata"].(map[string]any)
					ns, _ := meta["namespace"].(string)
					name, _ := meta["name"].(string)
					if k := [2]string{ns, name}; !seen.Has(k) {
						seen.Insert(k)
						objects = append(objects, obj)
					}
				}
			}
		}
		de, err := e.WithClusterData(ctx, engine.ClusterDocument(objects))
		if err != nil {
			return nil, err
		}
		out[i] = de
	}
	return out, nil
}

// kindResource is a resource that cluster queries read a kind from.
type kindResource struct {
	kind string
	gvr  schema.GroupVersionResource
}

// listAll lists every object of r, a page at a time, each with r's
// apiVersion and kind.
func (c *cluster) listAll(ctx context.Context, r kindResource, chunk int64) ([]map[string]any, error) {
	var objects []map[string]any
	opts := metav1.ListOptions{Limit: chunk}
	for {
		page, err := c.dyn.Resource(r.gvr).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("cluster data: list %s: %w", apiResource{gvr: r.gvr}, err)
		}
		for i := range page.Items {
			obj := page.Items[i].Object
			obj["apiVersion"], obj["kind"] = r.gvr.GroupVersion().String(), r.kind
			objects = append(objects, obj)
		}
		if opts.Continue = page.GetContinue(); opts.Continue == "" {
			return objects, nil
		}
	}
}
