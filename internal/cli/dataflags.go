package cli

import (
	"context"
	"fmt"

	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/spf13/cobra"
)

// dataOptions is --data: the objects of the cluster that cluster queries
// look among (data.charter.cluster), read like the manifests of eval.
type dataOptions struct {
	Paths []string
}

func (o *dataOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&o.Paths, "data", nil, "files or directories of cluster objects (Namespaces, StorageClasses, PodDisruptionBudgets...) that cluster queries look among")
}

// apply returns e with the cluster data read from --data; e itself without it.
func (o *dataOptions) apply(ctx context.Context, e *engine.Engine) (*engine.Engine, error) {
	if len(o.Paths) == 0 {
		return e, nil
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
	de, err := e.WithClusterData(ctx, engine.ClusterDocument(objects))
	if err != nil {
		return nil, badInput(fmt.Errorf("--data: %w", err))
	}
	return de, nil
}
