package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/internal/testrun"
	"github.com/spf13/cobra"
)

func newTestCommand() *cobra.Command {
	var run string
	var data dataOptions
	cmd := &cobra.Command{
		Use:   "test [--run REGEX] [--data PATH...] PATH...",
		Short: "Run every article's inline tests",
		Long: "Each charter file is its own charter (with what it includes); an article's tests run once,\n" +
			"in the charter file that writes it when that file is given, else in the charter that includes it.\n" +
			"A charter without tests is reported and passes (exit 0); --run matching no test is exit 2.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			batchGC()
			var re *regexp.Regexp
			if run != "" {
				var err error
				if re, err = regexp.Compile(run); err != nil {
					return badInput(fmt.Errorf("--run: %w", err))
				}
			}
			files, err := charter.Files(args)
			if err != nil {
				return badInput(err)
			}
			given := map[string]bool{}
			for _, f := range files {
				given[absPath(f)] = true
			}
			out := cmd.OutOrStdout()
			var results []testrun.Result
			for _, f := range files {
				o := policyOptions{Charters: []string{f}}
				e, c, err := o.load(cmd.Context())
				if err != nil {
					return err
				}
				// A test's own cluster: objects replace --data for that test.
				if e, err = data.apply(cmd.Context(), e); err != nil {
					return err
				}
				own := *c
				own.Spec.Articles = nil
				tests := 0
				for _, a := range c.Spec.Articles {
					if origin := absPath(a.Origin); origin == absPath(f) || !given[origin] {
						own.Spec.Articles = append(own.Spec.Articles, a)
						tests += len(a.Tests)
					}
				}
				if tests == 0 {
					fmt.Fprintf(out, "%s: no tests in charter %s\n", f, c.Metadata.Name)
					continue
				}
				for _, r := range testrun.Run(cmd.Context(), e, &own, re) {
					fmt.Fprintln(out, testrun.Format(r))
					results = append(results, r)
				}
			}
			fmt.Fprintln(out, testrun.Summary(results))
			for _, r := range results {
				if !r.Passed {
					return violation(nil)
				}
			}
			if len(results) == 0 && re != nil {
				return badInput(errors.New("no tests matched --run"))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "run only tests whose ARTICLE/TEST name matches this regular expression")
	data.AddFlags(cmd)
	return cmd
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
