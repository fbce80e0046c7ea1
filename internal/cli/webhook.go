package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/charter-dev/charter/webhook"
	"github.com/charter-dev/charter/webhook/certs"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
)

func newWebhookCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Kubernetes validating admission webhook: serve, certificates, configuration",
	}
	cmd.AddCommand(newWebhookServeCommand(), newWebhookCertsCommand(), newWebhookConfigCommand(), newWebhookRBACCommand())
	return cmd
}

type webhookServeOptions struct {
	webhook.Options
	Namespace string
	audit     auditOptions
	loader    loaderOptions
	keys      []string
	// decodeMemory is --decode-memory, a quantity such as 320Mi.
	decodeMemory string
	overrides    overrideServeOptions
	cluster      webhookClusterOptions
	clusterData  clusterDataOptions
}

func (o *webhookServeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.BundlePath, "bundle", "", "bundle (.tar.gz, or a directory with a .manifest), charter file or directory, https:// bundle service, or oci://REGISTRY/REPO:TAG to enforce; reloaded when it changes")
	fs.StringVar(&o.CertFile, "tls-cert", "", "serving certificate (PEM); reloaded when it changes")
	fs.StringVar(&o.KeyFile, "tls-key", "", "serving key (PEM); reloaded when it changes")
	fs.StringVar(&o.Listen, "listen", ":8443", "HTTPS listen address")
	fs.StringVar(&o.MinTLSVersion, "tls-min-version", "1.2", "minimum TLS version: 1.2 or 1.3")
	o.audit.AddFlags(fs)
	fs.BoolVar(&o.FailOpen, "fail-open", false, "admit, with a warning, when the policy cannot be evaluated (default: deny)")
	fs.StringSliceVar(&o.ExcludeNamespaces, "exclude-namespaces", webhook.DefaultExcludeNamespaces, "namespaces admitted without evaluation (the webhook's own namespace is always added)")
	fs.StringVar(&o.Namespace, "namespace", os.Getenv("POD_NAMESPACE"), "the webhook's own namespace (default $POD_NAMESPACE)")
	fs.DurationVar(&o.Timeout, "timeout", webhook.DefaultTimeout, "evaluation deadline; keep it below the webhook configuration's timeoutSeconds")
	fs.StringVar(&o.decodeMemory, "decode-memory", resource.NewQuantity(webhook.DefaultDecodeMemory, resource.BinarySI).String(),
		"memory the reviews in flight may hold decoded, shared by all requests (a review waits for its share within --timeout, else it is denied); the container's memory limit minus about 192Mi")
	fs.DurationVar(&o.ReloadInterval, "reload-interval", 2*time.Second, "how often to check the bundle and certificate files for changes")
	o.loader.AddFlags(fs)
	addVerifyKeyFlag(fs, &o.keys)
	o.overrides.AddFlags(fs)
	o.cluster.AddFlags(fs)
	o.clusterData.AddFlags(fs)
}

func newWebhookServeCommand() *cobra.Command {
	var o webhookServeOptions
	cmd := &cobra.Command{
		Use:   "serve --bundle PATH --tls-cert FILE --tls-key FILE",
		Short: "Serve AdmissionReview requests over HTTPS on /validate, with /healthz, /readyz and /metrics",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.BundlePath == "" || o.CertFile == "" || o.KeyFile == "" {
				return badInput(errors.New("--bundle, --tls-cert and --tls-key are required"))
			}
			if o.Namespace != "" {
				o.ExcludeNamespaces = append(o.ExcludeNamespaces, o.Namespace)
			}
			decodeMemory, err := parseDecodeMemory(o.decodeMemory)
			if err != nil {
				return badInput(err)
			}
			o.DecodeMemory = decodeMemory
			o.Logger = slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			o.StateDir, o.PollInterval = o.loader.StateDir, o.loader.PollInterval
			verify, err := (&policyOptions{VerifyKeys: o.keys}).verifier()
			if err != nil {
				return badInput(err)
			}
			o.Verify = verify
			if err := o.overrides.apply(&o.Options, &o.cluster); err != nil {
				return badInput(err)
			}
			if err := o.clusterData.apply(&o.Options, &o.cluster); err != nil {
				return badInput(err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			sink, closeAudit, err := o.audit.open(cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return badInput(err)
			}
			o.Audit, o.AuditSync = sink, o.audit.Sync
			s, err := webhook.New(ctx, o.Options)
			if err != nil {
				_ = closeAudit()
				return badInput(err)
			}
			err = s.ListenAndServe(ctx)
			if cerr := closeAudit(); err == nil {
				err = cerr
			}
			return err
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// parseDecodeMemory reads --decode-memory: a positive quantity of bytes.
func parseDecodeMemory(v string) (int64, error) {
	q, err := resource.ParseQuantity(v)
	if err != nil || q.Sign() <= 0 || q.Value() <= 0 {
		return 0, fmt.Errorf("--decode-memory %q: want a positive size such as 320Mi", v)
	}
	return q.Value(), nil
}

type webhookCertsOptions struct {
	certs.Options
	Out string
}

func (o *webhookCertsOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Out, "out", "", "directory to write ca.crt, tls.crt and tls.key into")
	fs.StringVar(&o.Service, "service", "charter-webhook", "the webhook's Service name")
	fs.StringVar(&o.Namespace, "namespace", "charter-system", "the webhook's namespace")
	fs.DurationVar(&o.Validity, "validity", 365*24*time.Hour, "how long the certificates are valid")
}

func newWebhookCertsCommand() *cobra.Command {
	var o webhookCertsOptions
	cmd := &cobra.Command{
		Use:   "certs --out DIR [--service NAME] [--namespace NS]",
		Short: "Write a CA and a serving certificate for NAME.NS.svc, NAME.NS.svc.cluster.local, localhost and 127.0.0.1",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Out == "" {
				return badInput(errors.New("--out is required"))
			}
			b, err := certs.Generate(o.Options)
			if err != nil {
				return badInput(err)
			}
			if err := b.Write(o.Out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/{%s,%s,%s} for %v and 127.0.0.1\n",
				o.Out, certs.CAFile, certs.CertFile, certs.KeyFile, o.DNSNames())
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

type webhookConfigOptions struct {
	webhook.ConfigOptions
	CAFile string
	policy policyOptions
}

func (o *webhookConfigOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.CAFile, "ca", "", "CA certificate (PEM) for the caBundle, e.g. DIR/ca.crt from `charter webhook certs`")
	fs.StringVar(&o.Name, "name", "charter", "ValidatingWebhookConfiguration name")
	fs.StringVar(&o.Service, "service", "charter-webhook", "the webhook's Service name")
	fs.StringVar(&o.Namespace, "namespace", "charter-system", "the webhook's namespace (also excluded from admission)")
	fs.Int32Var(&o.Port, "port", 443, "the Service port")
	fs.StringVar(&o.URL, "url", "", "register the webhook by URL instead of Service, e.g. https://127.0.0.1:8443/validate")
	fs.StringVar(&o.FailurePolicy, "failure-policy", "Fail", "Fail (deny when the webhook is unreachable) or Ignore (refused without --i-understand-fail-open)")
	fs.BoolVar(&o.AcceptFailOpen, "i-understand-fail-open", false, "accept that --failure-policy Ignore admits unchecked every request the webhook does not answer (see docs/webhook.md)")
	fs.Int32Var(&o.TimeoutSeconds, "timeout-seconds", 3, "apiserver timeout for each call")
	fs.StringSliceVar(&o.ExcludeNamespaces, "exclude-namespaces", webhook.DefaultExcludeNamespaces, "namespaces the apiserver never sends (plus --namespace)")
}

func newWebhookConfigCommand() *cobra.Command {
	var o webhookConfigOptions
	cmd := &cobra.Command{
		Use:   "config --ca FILE (--charter PATH | --bundle PATH) [--service NAME --namespace NS | --url URL]",
		Short: "Print the ValidatingWebhookConfiguration for a bundle: rules derived from its articles, caBundle filled in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.CAFile == "" {
				return badInput(errors.New("--ca is required"))
			}
			ca, err := os.ReadFile(o.CAFile)
			if err != nil {
				return badInput(err)
			}
			o.CABundle = ca
			e, _, err := o.policy.load(cmd.Context())
			if err != nil {
				return err
			}
			o.Rules = webhook.RulesFor(e.Bundle().Info)
			out, err := webhook.ConfigYAML(o.ConfigOptions)
			if err != nil {
				return badInput(err)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	o.AddFlags(cmd.Flags())
	o.policy.AddFlags(cmd)
	return cmd
}
