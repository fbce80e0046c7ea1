package cli

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/oci"
	sigkeys "github.com/charter-dev/charter/keys"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"
)

// registryOptions are the flags of commands that speak to an OCI registry.
type registryOptions struct {
	Insecure bool
}

func (o *registryOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.Insecure, "insecure-registry", false, "speak plain HTTP to the registry (loopback and localhost registries are spoken to over plain HTTP anyway)")
}

func (o *registryOptions) reference(ref string) (name.Reference, oci.Options, error) {
	opts := oci.Options{Insecure: o.Insecure}
	n, err := oci.ParseReference(ref, opts)
	return n, opts, err
}

type bundlePushOptions struct {
	registryOptions
	Key string
}

func (o *bundlePushOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Key, "key", "", "cosign-format private key that signed the bundle; it signs the manifest too (password from COSIGN_PASSWORD or a prompt)")
	o.registryOptions.AddFlags(cmd)
}

func newBundlePushCommand() *cobra.Command {
	o := &bundlePushOptions{}
	cmd := &cobra.Command{
		Use:   "push --key KEY BUNDLE.tar.gz|DIR oci://REGISTRY/REPO:TAG",
		Short: "Push a signed bundle in OPA's OCI bundle layout, with a cosign signature of its manifest",
		Long: `Push uploads the bundle as an OCI image (config application/vnd.oci.image.config.v1+json,
one layer application/vnd.oci.image.layer.v1.tar+gzip holding the tarball unchanged), the
layout an OPA service of type oci downloads, and attaches a cosign signature of the
manifest digest at cosign's sha256-<digest>.sig tag, so that
  cosign verify --key PUB --insecure-ignore-tlog=true REGISTRY/REPO:TAG
accepts it. The bundle must already be signed with KEY (charter bundle sign, or
charter build --sign). It prints the pushed digest reference.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, opts, err := o.reference(args[1])
			if err != nil {
				return badInput(err)
			}
			files, tgz, err := bundles.ReadFiles(args[0])
			if err != nil {
				return badInput(err)
			}
			if tgz == nil {
				if tgz, err = files.TarGz(); err != nil {
					return badInput(err)
				}
			}
			if o.Key == "" {
				return badInput(fmt.Errorf("push needs --key PRIVATE-KEY: the key that signed the bundle signs the manifest"))
			}
			sv, err := (&signOptions{Key: o.Key}).signer(cmd.ErrOrStderr())
			if err != nil {
				return badInput(err)
			}
			v, err := bundles.Verify(files, sv)
			if err != nil {
				return badInput(fmt.Errorf("%s: push only bundles signed with --key (sign it with charter bundle sign --key %s): %w", args[0], o.Key, err))
			}
			d, err := oci.Push(cmd.Context(), n, tgz, sv, opts)
			if err != nil {
				return badInput(err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "pushed %s (revision %s, %s, signed by %s)\n", args[0], v.Revision, formatRelease(v.Serial, v.Expires), v.KeyID)
			fmt.Fprintln(cmd.OutOrStdout(), oci.Scheme+d.String())
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

type bundlePullOptions struct {
	registryOptions
	bundleVerifyOptions
	Output string
}

func (o *bundlePullOptions) AddFlags(cmd *cobra.Command) {
	o.bundleVerifyOptions.AddFlags(cmd)
	o.registryOptions.AddFlags(cmd)
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the verified bundle tarball here")
}

func newBundlePullCommand() *cobra.Command {
	o := &bundlePullOptions{}
	cmd := &cobra.Command{
		Use:   "pull --key PUB [--key PUB2 ...] oci://REGISTRY/REPO:TAG -o FILE",
		Short: "Pull a bundle from an OCI registry, verify it, then write it: exit 0 valid, 1 invalid, 2 could not check",
		Long: `Pull resolves the tag to a manifest digest, checks the cosign signature of that
digest (as cosign verify --key would, offline), downloads the bundle layer
(checked against its digest), verifies the bundle's own signature strictly (as
charter bundle verify) and its expiry, and only then writes FILE. Any listed
key may have signed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Output == "" {
				return badInput(fmt.Errorf("give -o FILE"))
			}
			trusted, err := o.trusted()
			if err != nil {
				return err
			}
			n, opts, err := o.reference(args[0])
			if err != nil {
				return badInput(err)
			}
			d, tgz, v, err := pullVerified(cmd.Context(), n, opts, trusted)
			if err != nil {
				return err
			}
			if err := writeFileAtomic(o.Output, tgz, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: pulled %s%s to %s (revision %s, %s, signed by %s)\n",
				args[0], oci.Scheme, d, o.Output, v.Revision, formatRelease(v.Serial, v.Expires), v.KeyID)
			return nil
		},
	}
	o.AddFlags(cmd)
	return cmd
}

// trusted loads the --key public keys.
func (o *bundleVerifyOptions) trusted() ([]signature.Verifier, error) {
	if len(o.Keys) == 0 {
		return nil, badInput(fmt.Errorf("give at least one --key PUBLIC-KEY"))
	}
	var trusted []signature.Verifier
	for _, k := range o.Keys {
		v, err := sigkeys.LoadPublic(k)
		if err != nil {
			return nil, badInput(err)
		}
		trusted = append(trusted, v)
	}
	return trusted, nil
}

// pullVerified is every check of charter bundle pull, in order, before
// anything is written: the manifest's cosign signature, the layer's digest,
// the bundle's signature and expiry.
func pullVerified(ctx context.Context, n name.Reference, opts oci.Options, trusted []signature.Verifier) (name.Digest, []byte, *bundles.Verified, error) {
	d, err := oci.Resolve(ctx, n, opts)
	if err != nil {
		return d, nil, nil, badInput(err)
	}
	if err := oci.VerifySignature(ctx, d, opts, trusted...); err != nil {
		return d, nil, nil, verifyError(oci.Scheme+d.String(), err)
	}
	tgz, err := oci.Fetch(ctx, d, opts)
	if err != nil {
		return d, nil, nil, verifyError(oci.Scheme+d.String(), err)
	}
	files, err := bundles.ReadTarGz(bytes.NewReader(tgz))
	if err != nil {
		return d, nil, nil, violation(fmt.Errorf("%s%s: %w", oci.Scheme, d, err))
	}
	v, err := bundles.Verify(files, trusted...)
	if err != nil {
		return d, nil, nil, verifyError(oci.Scheme+d.String(), err)
	}
	if v.Expired(time.Now()) {
		return d, nil, nil, violation(fmt.Errorf("%s%s: the signature is valid, but the bundle expired at %s", oci.Scheme, d, v.Expires.UTC().Format(time.RFC3339)))
	}
	return d, tgz, v, nil
}
