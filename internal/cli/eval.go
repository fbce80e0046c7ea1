package cli

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

type evalOptions struct {
	policyOptions
	output    outputOptions
	Namespace string // --namespace: where objects without metadata.namespace are decided
	audit     auditOptions
	data      dataOptions
	overrides overridesOptions
	explain   explainOptions
}

func newEvalCommand() *cobra.Command {
	o := &evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval (--charter PATH | --bundle FILE) [--output text|json|sarif|junit|policyreport|html] PATH...|-",
		Short: "Decide Kubernetes manifests against a charter or bundle",
		Long: "Evaluates every object `kubectl apply -R -f PATH...` would send: multi-document YAML, JSON streams,\n" +
			"lists flattened as kubectl flattens them, directories (recursive, hidden ones too) and - (stdin).\n" +
			"Exit codes: 0 all allowed, 1 any object denied, 2 bad input or usage.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			batchGC()
			run, err := o.output.start(cmd)
			if err != nil {
				return err
			}
			e, _, err := o.load(cmd.Context())
			if err != nil {
				return err
			}
			if e, err = o.data.require(cmd.Context(), e); err != nil {
				return err
			}
			ov, err := o.overrides.evalOverrides(cmd.ErrOrStderr(), e, time.Now())
			if err != nil {
				return err
			}
			if o.explain.Explain {
				if o.audit.Log != "" {
					return badInput(errors.New("--explain records nothing: leave out --audit-log, or run eval without --explain to record the decisions"))
				}
				return runExplain(cmd.Context(), cmd, e, ov, o.output.Output, args, o.Namespace)
			}
			// --audit-log - prints its lines after the report, not inside it.
			var auditLines bytes.Buffer
			record, closeAudit, err := o.audit.recorder(cmd.Context(), &auditLines, cmd.ErrOrStderr(), e)
			if err != nil {
				return err
			}
			run.also = append(run.also, record)
			err = run.decideFiles(cmd.Context(), e, ov, args, cmd.InOrStdin(), o.Namespace)
			if cerr := closeAudit(); cerr != nil {
				return fmt.Errorf("audit log: %w", cerr)
			}
			if _, werr := auditLines.WriteTo(cmd.OutOrStdout()); werr != nil {
				return werr
			}
			return err
		},
	}
	o.AddFlags(cmd)
	o.audit.AddFlags(cmd.Flags())
	o.data.AddRequiredFlags(cmd)
	o.overrides.AddFlags(cmd)
	o.output.AddFlags(cmd)
	o.explain.AddFlags(cmd)
	cmd.Flags().StringVarP(&o.Namespace, "namespace", "n", "default", "decide objects of namespaced kinds that name no metadata.namespace as if in this namespace, as kubectl apply would")
	return cmd
}
