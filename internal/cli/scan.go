package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// scanOptions are the flags of `charter audit scan`.
type scanOptions struct {
	policyOptions
	clusterOptions
	output outputOptions
	Apply  bool
	data   dataOptions
}

func (o *scanOptions) AddFlags(cmd *cobra.Command) {
	o.policyOptions.AddFlags(cmd)
	o.clusterOptions.AddFlags(cmd)
	o.data.AddRequiredFlags(cmd)
	o.output.AddFlags(cmd)
	cmd.Flags().BoolVar(&o.Apply, "apply", false, "write the PolicyReports to the cluster (server-side apply, field manager charter); without it the scan never writes")
}

func newAuditScanCommand() *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "scan (--charter PATH | --bundle FILE) [-o FORMAT] (PATH...|- | [--kubeconfig F] [--context C] [--namespace N] [--apply])",
		Short: "Decide what already exists against a charter: manifests, or every object of a live cluster",
		Long: "With paths, decides the objects `kubectl apply -R -f PATH...` would send (as charter eval).\n" +
			"Without paths, reads a live cluster: every kind the charter matches (CRDs too), found through\n" +
			"discovery and read with paginated lists (--chunk-size objects at a time). Objects are decided\n" +
			"as they are read and the report is streamed, so memory does not grow with their number.\n" +
			"Progress goes to stderr: a bar when it is a terminal, plain counts otherwise (CI logs).\n" +
			"It never writes unless --apply is given, which\n" +
			"server-side applies one wgpolicyk8s.io/v1alpha2 PolicyReport per namespace and a\n" +
			"ClusterPolicyReport for cluster-scoped objects.\n" +
			"Exit codes: 0 all allowed, 1 any object denied, 2 bad input or could not read.",
		RunE: func(cmd *cobra.Command, args []string) error {
			batchGC()
			if len(args) > 0 && o.clusterOptions.set() {
				return badInput(errors.New("give manifests (PATH...) or a cluster (--kubeconfig, --context, --namespace), not both"))
			}
			if len(args) > 0 && o.Apply {
				return badInput(errors.New("--apply writes the PolicyReports of a cluster scan; it takes no PATH"))
			}
			run, err := o.output.start(cmd)
			if err != nil {
				return err
			}
			e, _, err := o.load(cmd.Context())
			if err != nil {
				return err
			}
			run.progress = newProgress(cmd.ErrOrStderr())
			if len(args) > 0 {
				if e, err = o.data.require(cmd.Context(), e); err != nil {
					return err
				}
				return run.decideFiles(cmd.Context(), e, nil, args, cmd.InOrStdin(), "default")
			}
			c, err := o.clusterOptions.connect()
			if err != nil {
				return badInput(err)
			}
			if len(o.data.Paths) > 0 || o.data.Empty {
				return badInput(errors.New("a live scan reads cluster data from the cluster; --data and --empty-cluster are for scans of files"))
			}
			if e, err = liveClusterData(cmd.Context(), c, e, o.ChunkSize, cmd.ErrOrStderr()); err != nil {
				return badInput(err)
			}
			return run.scanCluster(cmd.Context(), c, o.clusterOptions, e, o.Apply, cmd.ErrOrStderr())
		},
	}
	o.AddFlags(cmd)
	return cmd
}
