package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/charter-dev/charter/charter"
	"github.com/spf13/cobra"
)

// Exit codes every command shares.
const (
	ExitOK        = 0
	ExitViolation = 1 // a deny, or a failed test
	ExitBadInput  = 2 // bad input or usage
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func badInput(err error) error  { return &exitError{code: ExitBadInput, err: err} }
func violation(err error) error { return &exitError{code: ExitViolation, err: err} }

// Streams are the command's standard streams, replaceable in tests.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// NewRoot builds the charter command tree.
func NewRoot(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "charter",
		Short:         "Policy as code for Kubernetes: one charter, enforced in CI, at admission and at runtime",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput(err) })
	webhook := newWebhookCommand()
	webhook.AddCommand(newWebhookReviewCommand())
	root.AddCommand(newValidateCommand(), newBuildCommand(), newEvalCommand(), newTestCommand(), webhook, newAgentCommand())
	root.AddCommand(newKeysCommand(), newBundleCommand())
	root.AddCommand(newAuditCommand())
	root.AddCommand(newDiffCommand())
	root.AddCommand(newVersionCommand())
	root.AddCommand(newOPACommand())
	root.AddCommand(newOverrideCommand())
	addCouncilCommands(root) // last: joins the override command if there is one
	return root
}

// Run executes the command line and returns the process exit code.
func Run(ctx context.Context, args []string, s Streams) int {
	root := NewRoot(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			printError(s.Err, ee.err)
		}
		return ee.code
	}
	// cobra's own errors (unknown command, bad args) are usage errors.
	printError(s.Err, err)
	return ExitBadInput
}

func printError(w io.Writer, err error) {
	var list charter.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(w, e)
		}
		if len(list) > 1 {
			fmt.Fprintf(w, "%d errors\n", len(list))
		}
		return
	}
	fmt.Fprintln(w, "charter:", err)
}

// Main is what cmd/charter calls.
func Main() int {
	return Run(context.Background(), os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
}

// batchGC trades memory for speed in short-lived batch commands (eval,
// build, test, validate): policy evaluation allocates many small objects and
// the default collector spends a fifth of the CPU on them. An explicit GOGC
// in the environment wins.
func batchGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
