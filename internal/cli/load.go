package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/source"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	charterkeys "github.com/charter-dev/charter/keys"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// policyOptions choose the policy a command enforces: charters or a bundle.
type policyOptions struct {
	Charters   []string
	Bundle     string
	VerifyKeys []string // --verify-key
}

func (o *policyOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&o.Charters, "charter", nil, "charter file or directory (repeatable)")
	cmd.Flags().StringVar(&o.Bundle, "bundle", "", "bundle (.tar.gz, or a directory with a .manifest), charter file or directory, https:// bundle service, or oci://REGISTRY/REPO:TAG")
	addVerifyKeyFlag(cmd.Flags(), &o.VerifyKeys)
}

func addVerifyKeyFlag(fs *pflag.FlagSet, keys *[]string) {
	fs.StringArrayVar(keys, "verify-key", nil, "public key (cosign format) a bundle must be signed with before it enforces; repeatable, any listed key may sign (rotation)")
}

// verifier is the signature check --verify-key asks for, nil without keys.
func (o *policyOptions) verifier() (source.Verifier, error) {
	if len(o.VerifyKeys) == 0 {
		return nil, nil
	}
	var trusted []signature.Verifier
	for _, p := range o.VerifyKeys {
		v, err := charterkeys.LoadPublic(p)
		if err != nil {
			return nil, fmt.Errorf("--verify-key %s: %w", p, err)
		}
		trusted = append(trusted, v)
	}
	return source.Keys(trusted...), nil
}

// compileCharters loads and compiles charters; errors are bad input.
func compileCharters(paths []string) (*charter.Charter, *compiler.Output, error) {
	c, out, err := compiler.CompilePaths(paths)
	if err != nil {
		return nil, nil, badInput(err)
	}
	return c, out, nil
}

// policySource is the one loader's Source for the chosen flags.
func (o *policyOptions) policySource() (source.Source, error) {
	if (len(o.Charters) == 0) == (o.Bundle == "") {
		return nil, errors.New("give exactly one of --charter or --bundle")
	}
	if o.Bundle != "" {
		return source.Open(o.Bundle, source.Options{})
	}
	return source.Charters(o.Charters), nil
}

// load returns the engine for the chosen policy, and the charter when one was
// compiled from charters; the bundle passes the same checks as everywhere.
func (o *policyOptions) load(ctx context.Context) (*engine.Engine, *charter.Charter, error) {
	src, err := o.policySource()
	if err != nil {
		return nil, nil, badInput(err)
	}
	verify, err := o.verifier()
	if err != nil {
		return nil, nil, badInput(err)
	}
	r, err := source.New(source.Config[*engine.Engine]{
		Source:   src,
		Activate: func(ctx context.Context, b *bundles.Bundle) (*engine.Engine, error) { return engine.New(ctx, b) },
		Verify:   verify,
		Logger:   slog.New(slog.DiscardHandler), // the error is returned and printed once
	})
	if err != nil {
		return nil, nil, badInput(err)
	}
	if err := r.Load(ctx); err != nil {
		return nil, nil, badInput(err)
	}
	a := r.Current()
	return a.Value, a.Charter, nil
}
