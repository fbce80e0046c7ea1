package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/report"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// diffOptions are the flags of `charter diff`.
type diffOptions struct {
	clusterOptions
	Old, New   string
	VerifyKeys []string
	Output     string
	data       dataOptions
}

func (o *diffOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Old, "old", "", "the policy in force: bundle (.tar.gz or directory), charter file or directory, or https:// bundle service")
	cmd.Flags().StringVar(&o.New, "new", "", "the policy to preview, in the same forms as --old")
	addVerifyKeyFlag(cmd.Flags(), &o.VerifyKeys)
	o.clusterOptions.AddFlags(cmd)
	o.data.AddRequiredFlags(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: "+strings.Join(report.DiffFormats(), ", "))
}

func newDiffCommand() *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff --old BUNDLE|CHARTER --new BUNDLE|CHARTER (PATH...|- | [--kubeconfig F] [--context C] [--namespace N])",
		Short: "Impact preview: which objects a new policy denies, allows or decides differently",
		Long: "Decides every object under both policies (manifests as charter eval reads them, or a live cluster as\n" +
			"charter audit scan reads it, kinds of both charters) and prints only the objects whose verdict or\n" +
			"findings change, with counts per article. Nothing is written to the cluster.\n" +
			"Cluster queries read --data (or --empty-cluster) for manifests, as eval does, and the cluster itself for a live diff.\n" +
			"Exit codes: 0 nothing becomes denied, 1 some object becomes denied, 2 bad input or could not read.",
		RunE: func(cmd *cobra.Command, args []string) error {
			batchGC()
			if o.Old == "" || o.New == "" {
				return badInput(errors.New("give both --old and --new"))
			}
			if len(args) > 0 && o.clusterOptions.set() {
				return badInput(errors.New("give manifests (PATH...) or a cluster (--kubeconfig, --context, --namespace), not both"))
			}
			w, err := report.NewDiff(o.Output, o.Output == "text" && terminal(cmd.OutOrStdout()) != nil)
			if err != nil {
				return badInput(err)
			}
			oldE, err := o.engine(cmd.Context(), "--old", o.Old)
			if err != nil {
				return err
			}
			newE, err := o.engine(cmd.Context(), "--new", o.New)
			if err != nil {
				return err
			}
			d := report.Diff{Old: policyOf(oldE), New: policyOf(newE)}
			var readErrs charter.ErrorList
			if len(args) > 0 {
				// As eval: cluster queries of either side need --data or --empty-cluster.
				es, err := o.data.requireAll(cmd.Context(), oldE, newE)
				if err != nil {
					return err
				}
				readErrs, err = diffManifests(cmd, args, es[0], es[1], &d)
				if err != nil {
					return err
				}
			} else {
				if len(o.data.Paths) > 0 || o.data.Empty {
					return badInput(errors.New("a live diff reads cluster data from the cluster; --data and --empty-cluster are for diffs of files"))
				}
				err = diffCluster(cmd, o.clusterOptions, oldE, newE, &d)
			}
			if err != nil {
				return err
			}
			if err := w.WriteDiff(cmd.OutOrStdout(), d); err != nil {
				return err
			}
			if len(readErrs) > 0 {
				return badInput(readErrs)
			}
			for _, c := range d.Changes {
				if c.Change == report.NewlyDenied {
					return violation(nil)
				}
			}
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// engine loads one side of the diff through the one loader, with the same
// checks (and --verify-key) as every command.
func (o *diffOptions) engine(ctx context.Context, flag, path string) (*engine.Engine, error) {
	p := policyOptions{Bundle: path, VerifyKeys: o.VerifyKeys}
	e, _, err := p.load(ctx)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) && ee.err != nil {
			return nil, &exitError{code: ee.code, err: fmt.Errorf("%s %s: %w", flag, path, ee.err)}
		}
		return nil, err
	}
	return e, nil
}

// diffManifests decides each document under both policies as it is read,
// keeping only the changes.
func diffManifests(cmd *cobra.Command, args []string, oldE, newE *engine.Engine, d *report.Diff) (charter.ErrorList, error) {
	sources, bad := manifest.Sources(args, cmd.InOrStdin())
	type both struct{ old, new report.Result }
	parseErrs, err := forEachDoc(cmd.Context(), sources,
		func(ctx context.Context, doc manifest.Doc) (both, error) {
			old, err := decideOne(ctx, oldE, nil, doc, "default")
			if err != nil {
				return both{}, err
			}
			cur, err := decideOne(ctx, newE, nil, doc, "default")
			return both{old, cur}, err
		},
		func(b both) error {
			d.Objects++
			if c, changed := report.Compare(b.old, b.new); changed {
				d.Changes = append(d.Changes, c)
			}
			return nil
		}, nil)
	if err != nil {
		return nil, err
	}
	bad = append(bad, parseErrs...)
	if d.Objects == 0 && len(bad) == 0 {
		return nil, badInput(fmt.Errorf("no Kubernetes objects found in %s", strings.Join(args, ", ")))
	}
	return bad, nil
}

// diffCluster reads the cluster once (kinds of both charters, paginated)
// and decides each object under both policies, keeping only the changes.
func diffCluster(cmd *cobra.Command, o clusterOptions, oldE, newE *engine.Engine, d *report.Diff) error {
	c, err := o.connect()
	if err != nil {
		return badInput(err)
	}
	return diffLive(cmd.Context(), c, o, oldE, newE, d, cmd.ErrOrStderr())
}

// diffLive is diffCluster on a connected cluster.
func diffLive(ctx context.Context, c *cluster, o clusterOptions, oldE, newE *engine.Engine, d *report.Diff, stderr io.Writer) error {
	// As audit scan: the cluster queries of both sides read the cluster's objects.
	es, err := liveClusterDataAll(ctx, c, o.ChunkSize, stderr, oldE, newE)
	if err != nil {
		return badInput(err)
	}
	oldE, newE = es[0], es[1]
	kinds, all := scanKinds(oldE, newE)
	sc := &clusterScan{cluster: c, kinds: kinds, all: all, namespace: o.Namespace, chunk: o.ChunkSize, progress: newProgress(stderr),
		visit: func(ctx context.Context, r apiResource, u *unstructured.Unstructured) (bool, error) {
			old, err := decideLive(ctx, oldE, r, u)
			if err != nil {
				return false, err
			}
			cur, err := decideLive(ctx, newE, r, u)
			if err != nil {
				return false, err
			}
			d.Objects++
			ch, changed := report.Compare(old, cur)
			if changed {
				d.Changes = append(d.Changes, ch)
			}
			return changed && ch.Change == report.NewlyDenied, nil
		}}
	if err := sc.run(ctx); err != nil {
		return badInput(err)
	}
	return nil
}
