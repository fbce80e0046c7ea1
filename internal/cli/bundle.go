package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/spf13/cobra"
)

// newBundleCommand is `charter bundle`: sign and verify here, push and
// pull in bundle_oci.go.
func newBundleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Sign, verify and distribute compiled bundles",
	}
	cmd.AddCommand(newBundleSignCommand(), newBundleVerifyCommand(), newBundlePushCommand(), newBundlePullCommand())
	return cmd
}

type bundleSignOptions struct {
	signOptions
	Output string
}

func (o *bundleSignOptions) AddFlags(cmd *cobra.Command) {
	o.signOptions.AddFlags(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the signed tarball here instead of replacing BUNDLE")
}

func newBundleSignCommand() *cobra.Command {
	o := &bundleSignOptions{}
	cmd := &cobra.Command{
		Use:   "sign --key KEY [--serial N] [--expires D|TIME] BUNDLE.tar.gz|DIR",
		Short: "Sign a bundle: OPA's .signatures.json inside, and for a tarball a cosign-verifiable BUNDLE.sigstore.json beside it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			fi, err := os.Stat(path)
			if err != nil {
				return badInput(err)
			}
			if fi.IsDir() && o.Output != "" {
				return badInput(fmt.Errorf("-o is for tarballs; a directory bundle is signed in place"))
			}
			b, err := bundles.ReadFile(path)
			if err != nil {
				return badInput(err)
			}
			signed, sv, err := o.sign(cmd, b.Files)
			if err != nil {
				return err
			}
			if fi.IsDir() {
				// Only the two files signing changes are written.
				for _, n := range []string{".manifest", bundles.SignaturesFile} {
					if err := writeFileAtomic(filepath.Join(path, n), signed[n], 0o644); err != nil {
						return err
					}
				}
			} else {
				out := path
				if o.Output != "" {
					out = o.Output
				}
				tgz, err := signed.TarGz()
				if err != nil {
					return err
				}
				if err := writeFileAtomic(out, tgz, 0o644); err != nil {
					return err
				}
				if err := writeSigstoreBundle(out, tgz, sv); err != nil {
					return err
				}
				path = out
			}
			v, err := bundles.Verify(signed, sv)
			if err != nil {
				return fmt.Errorf("the bundle just signed does not verify: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "signed %s (revision %s, %s, key %s)\n", path, v.Revision, formatRelease(v.Serial, v.Expires), v.KeyID)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

type bundleVerifyOptions struct {
	Keys []string
}

func (o *bundleVerifyOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&o.Keys, "key", nil, "trusted public key (PEM); repeat for key rotation: any listed key may have signed")
}

func newBundleVerifyCommand() *cobra.Command {
	o := &bundleVerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify --key PUB [--key PUB2 ...] BUNDLE.tar.gz|DIR",
		Short: "Verify a signed bundle: exit 0 valid, 1 invalid, 2 could not check",
		Long: `Verify checks the bundle's .signatures.json strictly (exactly one ES256 JWT
whose kid names a trusted key; every file listed once with a matching digest;
no listed file missing; a signed metadata.serial) and the signed expiry. For a
tarball with BUNDLE.sigstore.json beside it, that sigstore bundle must verify
too (as cosign verify-blob would, offline).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			trusted, err := o.trusted()
			if err != nil {
				return err
			}
			path := args[0]
			files, tarball, err := bundles.ReadFiles(path)
			if err != nil {
				return badInput(err)
			}
			v, err := bundles.Verify(files, trusted...)
			if err != nil {
				return verifyError(path, err)
			}
			note := ""
			if tarball != nil {
				sb, err := os.ReadFile(path + bundles.SigstoreSuffix)
				switch {
				case errors.Is(err, fs.ErrNotExist):
				case err != nil:
					return badInput(err)
				default:
					if err := bundles.VerifySigstoreBundle(tarball, sb, trusted...); err != nil {
						return verifyError(path+bundles.SigstoreSuffix, err)
					}
					note = "; " + path + bundles.SigstoreSuffix + " verified"
				}
			}
			if v.Expired(time.Now()) {
				return violation(fmt.Errorf("%s: the signature is valid, but the bundle expired at %s", path, v.Expires.UTC().Format(time.RFC3339)))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: verified (revision %s, %s, signed by %s%s)\n", path, v.Revision, formatRelease(v.Serial, v.Expires), v.KeyID, note)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// verifyError: a bad signature is exit 1, anything that kept the check from
// being made is exit 2.
func verifyError(path string, err error) error {
	err = fmt.Errorf("%s: %w", path, err)
	if bundles.IsVerificationFailure(err) {
		return violation(err)
	}
	return badInput(err)
}
