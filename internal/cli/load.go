package cli

import (
	"context"
	"errors"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	"github.com/spf13/cobra"
)

// policyOptions choose the policy a command enforces: charters or a bundle.
type policyOptions struct {
	Charters []string
	Bundle   string
}

func (o *policyOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&o.Charters, "charter", nil, "charter file or directory (repeatable)")
	cmd.Flags().StringVar(&o.Bundle, "bundle", "", "compiled bundle (.tar.gz or directory)")
}

// compileCharters loads and compiles charters; errors are bad input.
func compileCharters(paths []string) (*charter.Charter, *compiler.Output, error) {
	c, out, err := compiler.CompilePaths(paths)
	if err != nil {
		return nil, nil, badInput(err)
	}
	return c, out, nil
}

// load returns the engine for the chosen policy, and the charter when one was given.
func (o *policyOptions) load(ctx context.Context) (*engine.Engine, *charter.Charter, error) {
	if (len(o.Charters) == 0) == (o.Bundle == "") {
		return nil, nil, badInput(errors.New("give exactly one of --charter or --bundle"))
	}
	var b *bundles.Bundle
	var c *charter.Charter
	if o.Bundle != "" {
		var err error
		if b, err = bundles.ReadFile(o.Bundle); err != nil {
			return nil, nil, badInput(err)
		}
	} else {
		var err error
		if b, c, err = bundles.FromCharters(o.Charters); err != nil {
			return nil, nil, badInput(err)
		}
	}
	e, err := engine.New(ctx, b)
	if err != nil {
		return nil, nil, badInput(err)
	}
	return e, c, nil
}
