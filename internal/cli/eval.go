package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/kinds"
	"github.com/charter-dev/charter/report"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

type evalOptions struct {
	policyOptions
	Output    string
	Namespace string // --namespace: where objects without metadata.namespace are decided
	audit     auditOptions
	data      dataOptions
	overrides overridesOptions
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
			if e, err = o.data.require(cmd.Context(), e); err != nil {
				return err
			}
			sources, readErrs := manifest.Sources(args, cmd.InOrStdin())
			ov, err := o.overrides.evalOverrides(cmd.ErrOrStderr(), e, time.Now())
			if err != nil {
				return err
			}
			results, parseErrs, err := decideAll(cmd.Context(), e, ov, sources, o.Namespace)
			if err != nil {
				return err
			}
			readErrs = append(readErrs, parseErrs...)
			if len(results) == 0 && len(readErrs) == 0 {
				// A mistyped path must not pass CI as "0 objects".
				return badInput(fmt.Errorf("no Kubernetes objects found in %s", strings.Join(args, ", ")))
			}
			if err := w.Write(cmd.OutOrStdout(), policyOf(e), results); err != nil {
				return err
			}
			if err := o.recordResults(cmd, e, results); err != nil {
				return err
			}
			if len(readErrs) > 0 {
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
	o.audit.AddFlags(cmd.Flags())
	o.data.AddRequiredFlags(cmd)
	o.overrides.AddFlags(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: "+strings.Join(report.Formats(), ", "))
	cmd.Flags().StringVarP(&o.Namespace, "namespace", "n", "default", "decide objects of namespaced kinds that name no metadata.namespace as if in this namespace, as kubectl apply would")
	return cmd
}

// decideAll reads, parses and decides every source on every core with one
// shared engine, keeping the order of sources and documents. Objects of
// namespaced kinds without a namespace are decided in namespace.
func decideAll(ctx context.Context, e *engine.Engine, ov *engine.Overrides, sources []manifest.Source, namespace string) ([]report.Result, charter.ErrorList, error) {
	type outcome struct {
		results []report.Result
		bad     charter.ErrorList
		err     error
	}
	outs := make([]outcome, len(sources))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				docs, bad := sources[i].Docs()
				o := outcome{bad: bad}
				for _, d := range docs {
					r, err := decideOne(ctx, e, ov, d, namespace)
					if err != nil {
						o.err = errors.Join(o.err, fmt.Errorf("%s#%d: %w", d.File, d.Index, err))
						continue
					}
					o.results = append(o.results, r)
				}
				outs[i] = o
			}
		}()
	}
	for i := range sources {
		next <- i
	}
	close(next)
	wg.Wait()
	var results []report.Result
	var bad charter.ErrorList
	var errs []error
	for _, o := range outs {
		results = append(results, o.results...)
		bad = append(bad, o.bad...)
		errs = append(errs, o.err)
	}
	return results, bad, errors.Join(errs...)
}

func decideOne(ctx context.Context, e *engine.Engine, ov *engine.Overrides, d manifest.Doc, namespace string) (report.Result, error) {
	d.Object = kinds.DefaultNamespace(d.Object, namespace)
	dec, err := e.DecideWith(ctx, d.Object, ov)
	if err != nil {
		return report.Result{}, err
	}
	r := report.Result{File: d.File, Index: d.Index, Line: d.Line, APIVersion: d.APIVersion(), Kind: d.Kind(), Namespace: d.Namespace(), Name: d.Name(), Allowed: dec.Allowed}
	var fields *manifest.Fields
	for _, f := range dec.All() {
		v := report.Violation{Article: f.Article, Action: f.Action, Severity: f.Severity, Message: f.Message, Path: f.Path}
		if fields == nil {
			fl := d.Fields() // parsed once, only for objects with findings
			fields = &fl
		}
		v.Line, v.Column = fields.Pos(f.Path)
		if f.Override != "" {
			// A lifted denial is reported as the webhook answers it: a warning naming the override.
			v.Action, v.Message, v.Override = "warn", "allowed by override "+f.Override+": "+f.Message, f.Override
		}
		r.Violations = append(r.Violations, v)
	}
	return r, nil
}

// policyOf describes the engine's bundle for reports.
func policyOf(e *engine.Engine) report.Policy {
	info := e.Bundle().Info
	p := report.Policy{Name: info.Name, Version: info.Version, Revision: e.Revision(), Articles: map[string]report.Article{}}
	for id, a := range info.Articles {
		p.Articles[id] = report.Article{Title: a.Title, Description: a.Description, Severity: a.Severity, Action: a.Action}
	}
	return p
}
