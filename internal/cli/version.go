package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/charter-dev/charter/version"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type versionOptions struct {
	Output string
}

func (o *versionOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Output, "output", "o", "text", "text or json")
}

func newVersionCommand() *cobra.Command {
	var o versionOptions
	cmd := &cobra.Command{
		Use:   "version [-o text|json]",
		Short: "Print charter's version and commit, and the Go, OPA and Kubernetes library versions it is built with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			i := version.Get()
			switch o.Output {
			case "json":
				out, err := json.MarshalIndent(i, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
				return err
			case "text":
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 1, ' ', 0)
				commit := i.Commit
				if i.Modified {
					commit += " (modified)"
				}
				for _, row := range [][2]string{
					{"version", i.Version}, {"commit", commit}, {"go", i.GoVersion},
					{"opa", i.OPA}, {"kubernetes", i.Kubernetes}, {"platform", i.Platform},
				} {
					fmt.Fprintf(w, "%s:\t%s\n", row[0], row[1])
				}
				return w.Flush()
			}
			return badInput(fmt.Errorf("--output %q: want text or json", o.Output))
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}
