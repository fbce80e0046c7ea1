package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/internal/atomicfile"
	sigkeys "github.com/charter-dev/charter/keys"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"
)

// signOptions are the flags of every command that signs a bundle.
type signOptions struct {
	Key     string
	Serial  int64
	Expires string
}

func (o *signOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Key, "key", "", "cosign-format private key (PEM); its password comes from COSIGN_PASSWORD or a prompt")
	cmd.Flags().Int64Var(&o.Serial, "serial", 0, "release serial written into the signed manifest, raised for every release (default: the current Unix time)")
	cmd.Flags().StringVar(&o.Expires, "expires", "", "expiry written into the signed manifest: a duration from now (720h) or an RFC 3339 time")
}

// release turns the flags into the manifest's release fields.
func (o *signOptions) release(cmd *cobra.Command, now time.Time) (bundles.Release, error) {
	r := bundles.Release{Serial: now.Unix()}
	if cmd.Flags().Changed("serial") {
		r.Serial = o.Serial
	}
	if o.Expires != "" {
		if d, err := time.ParseDuration(o.Expires); err == nil {
			if d <= 0 {
				return r, fmt.Errorf("--expires %s is not in the future", o.Expires)
			}
			r.Expires = now.Add(d).Truncate(time.Second)
		} else if t, err := time.Parse(time.RFC3339, o.Expires); err == nil {
			if !t.After(now) {
				return r, fmt.Errorf("--expires %s has already passed: a bundle signed with it would be refused everywhere", o.Expires)
			}
			r.Expires = t
		} else {
			return r, fmt.Errorf("--expires %q is neither a duration (720h) nor an RFC 3339 time", o.Expires)
		}
	}
	return r, nil
}

func (o *signOptions) signer(stderr io.Writer) (signature.SignerVerifier, error) {
	if o.Key == "" {
		return nil, fmt.Errorf("signing needs --key PRIVATE-KEY")
	}
	return sigkeys.LoadPrivate(o.Key, sigkeys.Password(os.LookupEnv, stderr, false))
}

// sign signs files with the key and release the flags name.
func (o *signOptions) sign(cmd *cobra.Command, files bundles.Files) (bundles.Files, signature.SignerVerifier, error) {
	r, err := o.release(cmd, time.Now())
	if err != nil {
		return nil, nil, badInput(err)
	}
	sv, err := o.signer(cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, badInput(err)
	}
	signed, err := bundles.Sign(files, sv, r)
	if err != nil {
		return nil, nil, badInput(err)
	}
	return signed, sv, nil
}

// buildSignOptions adds --sign to charter build.
type buildSignOptions struct {
	Sign bool
	signOptions
	signer signature.SignerVerifier
}

func (o *buildSignOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.Sign, "sign", false, "sign the bundle (.signatures.json inside; for a tarball also OUT.sigstore.json beside it)")
	o.signOptions.AddFlags(cmd)
}

// apply signs the built files when --sign is set.
func (o *buildSignOptions) apply(cmd *cobra.Command, files bundles.Files, output string) (bundles.Files, error) {
	if !o.Sign {
		if o.Key != "" {
			return nil, badInput(fmt.Errorf("--key without --sign: add --sign to sign the bundle"))
		}
		return files, nil
	}
	if output == "-" {
		return nil, badInput(fmt.Errorf("--sign needs -o FILE: the sigstore bundle is written beside it"))
	}
	signed, sv, err := o.sign(cmd, files)
	o.signer = sv
	return signed, err
}

// writeSigstore writes OUT.sigstore.json for a signed tarball.
func (o *buildSignOptions) writeSigstore(output string, tarball []byte) error {
	if !o.Sign {
		return nil
	}
	return writeSigstoreBundle(output, tarball, o.signer)
}

func writeSigstoreBundle(tarballPath string, tarball []byte, sv signature.SignerVerifier) error {
	sb, err := bundles.SigstoreBundle(tarball, sv)
	if err != nil {
		return err
	}
	return writeFileAtomic(tarballPath+bundles.SigstoreSuffix, sb, 0o644)
}

// writeFileAtomic replaces path with data (atomicfile.Write), so a reader
// never sees half a bundle; the error names the file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := atomicfile.Write(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func formatRelease(serial int64, expires time.Time) string {
	s := "serial " + strconv.FormatInt(serial, 10)
	if !expires.IsZero() {
		s += ", expires " + expires.UTC().Format(time.RFC3339)
	}
	return s
}
