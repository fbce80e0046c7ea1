package cli

import (
	"fmt"
	"os"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/internal/testrun"
	"github.com/spf13/cobra"
)

type buildOptions struct {
	Output string
	Format string
	Tests  bool
}

func newBuildCommand() *cobra.Command {
	o := &buildOptions{}
	sign := &buildSignOptions{}
	cmd := &cobra.Command{
		Use:   "build [-o FILE.tar.gz | --format dir -o DIR] PATH...",
		Short: "Compile charters into a deterministic OPA bundle",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			batchGC()
			c, out, err := compileCharters(args)
			if err != nil {
				return err
			}
			if o.Tests {
				if err := addTests(c, out); err != nil {
					return err
				}
			}
			files, err := bundles.FromOutput(out)
			if err != nil {
				return err
			}
			if files, err = sign.apply(cmd, files, o.Output); err != nil {
				return err
			}
			switch o.Format {
			case "tar.gz", "tgz":
				data, err := files.TarGz()
				if err != nil {
					return err
				}
				if o.Output == "-" {
					_, err = cmd.OutOrStdout().Write(data)
					return err
				}
				if err := os.WriteFile(o.Output, data, 0o644); err != nil {
					return badInput(err)
				}
				if err := sign.writeSigstore(o.Output, data); err != nil {
					return err
				}
			case "dir":
				if o.Output == "-" {
					return badInput(fmt.Errorf("--format dir needs -o DIR"))
				}
				if err := files.WriteDir(o.Output); err != nil {
					return badInput(err)
				}
			default:
				return badInput(fmt.Errorf("unknown --format %q (use tar.gz or dir)", o.Format))
			}
			if o.Output != "-" {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%s, revision %s)\n", o.Output, out, bundleRevision(files))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "bundle.tar.gz", "output file, directory, or - for stdout")
	cmd.Flags().StringVar(&o.Format, "format", "tar.gz", "tar.gz or dir")
	cmd.Flags().BoolVar(&o.Tests, "tests", false, "also write the articles' inline tests as Rego tests (charter/tests/), for opa test")
	sign.AddFlags(cmd)
	return cmd
}

func bundleRevision(f bundles.Files) string {
	m, err := f.Manifest()
	if err != nil {
		return "?"
	}
	return m.Revision
}

// addTests compiles the inline tests into Rego test modules of the bundle.
func addTests(c *charter.Charter, out *compiler.Output) error {
	objects := compiler.TestObjects{}
	for _, a := range c.Spec.Articles {
		for _, t := range a.Tests {
			objs, err := testrun.Objects(t, out.Info.DeclaredKinds()...)
			if err != nil {
				return badInput(fmt.Errorf("%s: %w", t.Pos, err))
			}
			objects[t] = objs
		}
	}
	tests, err := compiler.CompileTests(c, objects)
	if err != nil {
		return err
	}
	for name, src := range tests {
		out.Modules[name] = src
	}
	return nil
}
