package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check charters and report every error as file:line:col",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			batchGC()
			c, out, err := compileCharters(args)
			if err != nil {
				return err
			}
			if c == nil {
				return badInput(errors.New("no charter"))
			}
			name := c.Metadata.Name
			if merged, ok := strings.CutPrefix(c.Metadata.Description, "merged: "); ok {
				name = merged
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d articles, %d Rego modules: ok\n", name, len(c.Spec.Articles), len(out.Modules))
			return nil
		},
	}
}
