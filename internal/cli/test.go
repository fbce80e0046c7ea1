package cli

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/charter-dev/charter/internal/testrun"
	"github.com/spf13/cobra"
)

func newTestCommand() *cobra.Command {
	var run string
	var data dataOptions
	cmd := &cobra.Command{
		Use:   "test [--run REGEX] [--data PATH...] PATH...",
		Short: "Run every article's inline tests",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			batchGC()
			var re *regexp.Regexp
			if run != "" {
				var err error
				if re, err = regexp.Compile(run); err != nil {
					return badInput(fmt.Errorf("--run: %w", err))
				}
			}
			o := policyOptions{Charters: args}
			e, c, err := o.load(cmd.Context())
			if err != nil {
				return err
			}
			// A test's own cluster: objects replace --data for that test.
			if e, err = data.apply(cmd.Context(), e); err != nil {
				return err
			}
			results := testrun.Run(cmd.Context(), e, c, re)
			out := cmd.OutOrStdout()
			failed := 0
			for _, r := range results {
				fmt.Fprintln(out, testrun.Format(r))
				if !r.Passed {
					failed++
				}
			}
			fmt.Fprintln(out, testrun.Summary(results))
			if failed > 0 {
				return violation(nil)
			}
			if len(results) == 0 {
				return badInput(errors.New("no tests matched"))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "run only tests whose ARTICLE/TEST name matches this regular expression")
	data.AddFlags(cmd)
	return cmd
}
