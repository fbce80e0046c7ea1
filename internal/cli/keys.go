package cli

import (
	"fmt"
	"os"

	sigkeys "github.com/charter-dev/charter/keys"
	"github.com/spf13/cobra"
)

func newKeysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage cosign-format signing keys",
	}
	cmd.AddCommand(newKeysGenerateCommand())
	return cmd
}

type keysGenerateOptions struct {
	Out string
}

func (o *keysGenerateOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Out, "out", "cosign", "write PREFIX.key and PREFIX.pub")
}

func newKeysGenerateCommand() *cobra.Command {
	o := &keysGenerateOptions{}
	cmd := &cobra.Command{
		Use:   "generate [--out PREFIX]",
		Short: "Generate an encrypted ECDSA P-256 key pair (cosign format; password from COSIGN_PASSWORD or a prompt)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Refuse before asking for a password.
			for _, p := range []string{o.Out + ".key", o.Out + ".pub"} {
				if _, err := os.Lstat(p); err == nil {
					return badInput(fmt.Errorf("%s already exists; refusing to overwrite a key", p))
				}
			}
			password, err := sigkeys.Password(os.LookupEnv, cmd.ErrOrStderr(), true)()
			if err != nil {
				return badInput(err)
			}
			pair, err := sigkeys.Generate(password)
			if err != nil {
				return err
			}
			keyPath, pubPath, err := sigkeys.WriteFiles(o.Out, pair)
			if err != nil {
				return badInput(err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote private key %s and public key %s\n", keyPath, pubPath)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}
