package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/report"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// scanOptions are the flags of `charter audit scan`.
type scanOptions struct {
	policyOptions
	clusterOptions
	Output string
	Apply  bool
	data   dataOptions
}

func (o *scanOptions) AddFlags(cmd *cobra.Command) {
	o.policyOptions.AddFlags(cmd)
	o.clusterOptions.AddFlags(cmd)
	o.data.AddRequiredFlags(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: "+strings.Join(report.Formats(), ", "))
	cmd.Flags().BoolVar(&o.Apply, "apply", false, "write the PolicyReports to the cluster (server-side apply, field manager charter); without it the scan never writes")
}

func newAuditScanCommand() *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "scan (--charter PATH | --bundle FILE) [-o FORMAT] (PATH...|- | [--kubeconfig F] [--context C] [--namespace N] [--apply])",
		Short: "Decide what already exists against a charter: manifests, or every object of a live cluster",
		Long: "With paths, decides the objects `kubectl apply -R -f PATH...` would send (as charter eval).\n" +
			"Without paths, reads a live cluster: every kind the charter matches (CRDs too), found through\n" +
			"discovery and read with paginated lists (--chunk-size objects at a time), progress on stderr\n" +
			"when it is a terminal, plain counts otherwise. It never writes unless --apply is given, which\n" +
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
			color := false
			if f, ok := cmd.OutOrStdout().(*os.File); ok && o.Output == "text" {
				color = term.IsTerminal(int(f.Fd()))
			}
			w, err := report.New(o.Output, color)
			if err != nil {
				return badInput(err)
			}
			e, _, err := o.load(cmd.Context())
			if err != nil {
				return err
			}
			var results []report.Result
			var readErrs error
			if len(args) > 0 {
				if e, err = o.data.require(cmd.Context(), e); err != nil {
					return err
				}
				sources, bad := manifest.Sources(args, cmd.InOrStdin())
				rs, parseErrs, err := decideAll(cmd.Context(), e, nil, sources, "default")
				if err != nil {
					return err
				}
				if bad = append(bad, parseErrs...); len(bad) > 0 {
					readErrs = bad
				}
				if len(rs) == 0 && readErrs == nil {
					return badInput(fmt.Errorf("no Kubernetes objects found in %s", strings.Join(args, ", ")))
				}
				results = rs
			} else {
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
				results, err = scanCluster(cmd.Context(), c, o.clusterOptions, e, newProgress(cmd.ErrOrStderr()))
				if err != nil {
					return badInput(err)
				}
				if o.Apply {
					if err := c.applyReports(cmd.Context(), policyOf(e), results, cmd.ErrOrStderr()); err != nil {
						return badInput(err)
					}
				}
			}
			if err := w.Write(cmd.OutOrStdout(), policyOf(e), results); err != nil {
				return err
			}
			if readErrs != nil {
				return badInput(readErrs)
			}
			for _, r := range results {
				if !r.Allowed {
					return violation(nil)
				}
			}
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// progress reports a scan on stderr: a line rewritten in place on a
// terminal, one plain line per kind otherwise (CI logs).
type progress struct {
	w    io.Writer
	live bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, live: ok && term.IsTerminal(int(f.Fd()))}
}

// update shows the running count of one kind; done ends it.
func (p *progress) update(what string, objects, denied int) {
	if p.live {
		fmt.Fprintf(p.w, "\r\x1b[Kscanning %s: %d objects, %d denied", what, objects, denied)
	}
}

func (p *progress) done(what string, objects, denied int) {
	if p.live {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "scanned %s: %d objects, %d denied\n", what, objects, denied)
}
