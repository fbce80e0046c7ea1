package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/kinds"
	"github.com/charter-dev/charter/report"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// outputOptions is -o, the report format of charter eval and audit scan.
type outputOptions struct {
	Output string
}

func (o *outputOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.Output, "output", "o", "text", "output format: "+strings.Join(report.Formats(), ", "))
}

// reportRun streams the results of charter eval or audit scan to stdout,
// in the chosen format, as they are decided, and counts what the exit code
// needs: a scan of any size keeps no result. The report starts with the
// first result, so a run that finds nothing can fail without printing an
// empty one.
type reportRun struct {
	writer   report.Writer
	stdout   *os.File // the terminal stdout is, or nil
	out      *bufio.Writer
	policy   report.Policy
	stream   report.Stream
	progress *progress
	objects  int
	denied   int
	// undecided are the errors of the objects that could not be decided,
	// each also a result of the report.
	undecided []error
	// also sees each result before the report: the audit log, the
	// PolicyReports to apply.
	also []func(report.Result) error
}

// start checks the format; text gets colour only on a terminal.
func (o *outputOptions) start(cmd *cobra.Command) (*reportRun, error) {
	r := &reportRun{out: bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10), stdout: terminal(cmd.OutOrStdout())}
	w, err := report.New(o.Output, r.stdout != nil && o.Output == "text")
	if err != nil {
		return nil, badInput(err)
	}
	r.writer = w
	return r, nil
}

// terminal is w when it is a terminal, else nil.
func terminal(w io.Writer) *os.File {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}

func (r *reportRun) add(res report.Result) error {
	if r.stream == nil {
		r.stream = r.writer.Stream(r.out, r.policy)
	}
	r.objects++
	denied := !res.Allowed && res.Error == ""
	if denied {
		r.denied++
	}
	r.progress.object(denied)
	if res.Error != "" {
		r.undecided = append(r.undecided, fmt.Errorf("%s#%d: %s", res.File, res.Index, res.Error))
	} else {
		// Only decisions are recorded or applied.
		for _, f := range r.also {
			if err := f(res); err != nil {
				return err
			}
		}
	}
	if r.stdout == nil {
		return r.stream.Add(res)
	}
	// On a terminal, each object shows as it is decided, above the bar.
	r.progress.clear()
	if err := r.stream.Add(res); err != nil {
		return err
	}
	return r.out.Flush()
}

// close ends the report (an empty one when no result came).
func (r *reportRun) close() error {
	if r.stream == nil {
		r.stream = r.writer.Stream(r.out, r.policy)
	}
	if err := r.stream.Close(); err != nil {
		return err
	}
	return r.out.Flush()
}

// verdict is the exit status once the report is closed: bad input when
// some input could not be read or some object could not be decided, a
// violation when some object was denied.
func (r *reportRun) verdict(readErrs charter.ErrorList) error {
	if len(r.undecided) > 0 {
		if len(readErrs) > 0 {
			return badInput(errors.Join(append([]error{readErrs}, r.undecided...)...))
		}
		return badInput(errors.Join(r.undecided...))
	}
	if len(readErrs) > 0 {
		return badInput(readErrs)
	}
	if r.denied > 0 {
		return violation(nil)
	}
	return nil
}

// decideFiles is what eval and a scan of manifests share: decide the
// manifests args name with e (and the verified overrides ov), stream the
// report, and return the exit status. Objects of namespaced kinds without a
// namespace are decided in namespace.
func (r *reportRun) decideFiles(ctx context.Context, e *engine.Engine, ov *engine.Overrides, args []string, stdin io.Reader, namespace string) error {
	r.policy = policyOf(e)
	sources, readErrs := manifest.Sources(args, stdin)
	r.progress.startFiles(len(sources))
	bad, err := forEachDoc(ctx, sources,
		func(ctx context.Context, d manifest.Doc) (report.Result, error) {
			res, err := decideOne(ctx, e, ov, d, namespace)
			if err != nil {
				// Reported like a decision, so that a reader of the report
				// alone sees the object; the run still exits 2.
				return undecidedResult(e, d, namespace, err), nil
			}
			return res, nil
		},
		r.add, r.progress.fileDone)
	readErrs = append(readErrs, bad...)
	if r.objects == 0 && len(readErrs) == 0 && err == nil {
		// A mistyped path must not pass CI as "0 objects".
		return badInput(fmt.Errorf("no Kubernetes objects found in %s", strings.Join(args, ", ")))
	}
	if cerr := r.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return r.verdict(readErrs)
}

// undecidedResult is the result of an object whose decision failed with
// err: named as decideOne names it, with the error and no verdict.
func undecidedResult(e *engine.Engine, d manifest.Doc, namespace string, err error) report.Result {
	d.Object = kinds.DefaultNamespace(d.Object, namespace, e.Bundle().Info.DeclaredKinds()...)
	return report.Result{File: d.File, Index: d.Index, Line: d.Line, APIVersion: d.APIVersion(), Kind: d.Kind(), Namespace: d.Namespace(), Name: d.Name(), Error: err.Error()}
}
