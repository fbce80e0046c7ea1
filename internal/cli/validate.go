package cli

import (
	"fmt"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/spf13/cobra"
)

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check charters and report every error as file:line:col",
		Long: "Each charter file is validated as its own charter (with the charters it includes):\n" +
			"independent charters in one directory are not merged, so they may reuse article ids.\n" +
			"Every error of every file and phase (parse, includes, compile) is reported at once.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			batchGC()
			files, err := charter.Files(args)
			var errs charter.ErrorList
			if err != nil {
				errs = append(errs, err.(charter.ErrorList)...)
			}
			for _, f := range files {
				c, out, err := compiler.Validate(f)
				if err != nil {
					errs = append(errs, err.(charter.ErrorList)...)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s: %d articles, %d Rego modules: ok\n", f, c.Metadata.Name, len(c.Spec.Articles), len(out.Modules))
			}
			if len(errs) > 0 {
				return badInput(errs.Err())
			}
			return nil
		},
	}
}
