package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charter-dev/charter/webhook"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/discovery"
)

// clusterDataOptions are --cluster-data: the webhook's cluster data cache,
// over the shared client and informers of webhookClusterOptions.
type clusterDataOptions struct {
	Enabled     bool
	MaxObjects  int
	SyncTimeout time.Duration
}

func (o *clusterDataOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Enabled, "cluster-data", false, "enforce bundles whose articles query cluster data: watch the kinds they read (informers, --kubeconfig; RBAC from `charter webhook rbac`) and decide with them; without it such bundles are refused")
	fs.IntVar(&o.MaxObjects, "cluster-data-max-objects", webhook.DefaultClusterDataMaxObjects, "most objects the cluster data cache holds, all kinds together; a kind that would pass it is dropped and the articles reading it fail closed (retried every minute)")
	fs.DurationVar(&o.SyncTimeout, "cluster-data-sync-timeout", webhook.DefaultClusterDataSyncTimeout, "how long a bundle waits for the first sync of the kinds it reads before it is refused")
}

// apply fills the server options' informers and cluster data cache, when
// --cluster-data asks for them.
func (o *clusterDataOptions) apply(opts *webhook.Options, cluster *webhookClusterOptions) error {
	if !o.Enabled {
		return nil
	}
	if o.MaxObjects <= 0 {
		return fmt.Errorf("--cluster-data-max-objects must be positive, not %d", o.MaxObjects)
	}
	inf, err := cluster.Informers()
	if err != nil {
		return fmt.Errorf("--cluster-data: %w", err)
	}
	cfg, err := cluster.restConfig()
	if err != nil {
		return fmt.Errorf("--cluster-data: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("--cluster-data: %w", err)
	}
	opts.Informers = inf
	opts.ClusterData, err = webhook.NewClusterData(webhook.ClusterDataOptions{Informers: inf, Discovery: disc,
		MaxObjects: o.MaxObjects, SyncTimeout: o.SyncTimeout, Logger: opts.Logger})
	return err
}

type webhookRBACOptions struct {
	webhook.RBACOptions
	resources []string
	policy    policyOptions
}

func newWebhookRBACCommand() *cobra.Command {
	var o webhookRBACOptions
	cmd := &cobra.Command{
		Use:   "rbac (--charter PATH | --bundle PATH) [--namespace NS] [--service-account NAME] [--resource KIND=GROUP/RESOURCE...]",
		Short: "Print the ClusterRole and binding the webhook's --cluster-data needs: get, list and watch on exactly the kinds the bundle's cluster queries read",
		Long: "The webhook's cluster data cache watches only the kinds a bundle's cluster queries read; this prints RBAC for\n" +
			"exactly those (deploy/components/cluster-data is its output for examples/charters/cluster-data.yaml).\n" +
			"A kind is listed at its built-in resource and at the group and plural of each custom kind of that name the charter\n" +
			"declares (spec.customKinds: a Knative Service besides core Services); --resource KIND=GROUP/RESOURCE replaces a kind's\n" +
			"resources (a kind named only in podTemplates). A bundle without cluster queries needs none: exit 2.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, _, err := o.policy.load(cmd.Context())
			if err != nil {
				return err
			}
			kinds := e.ClusterKinds()
			if len(kinds) == 0 {
				return badInput(errors.New("the bundle's articles query no cluster data: the webhook needs no cluster data RBAC (nor --cluster-data)"))
			}
			if b := e.Bundle(); b != nil {
				o.CustomKinds = b.Info.CustomKinds
			}
			o.Resources = map[string]string{}
			for _, r := range o.resources {
				kind, gr, ok := strings.Cut(r, "=")
				if !ok || kind == "" {
					return badInput(fmt.Errorf("--resource %q: want KIND=GROUP/RESOURCE", r))
				}
				o.Resources[kind] = gr
			}
			out, err := webhook.ClusterDataRBACYAML(kinds, o.RBACOptions)
			if err != nil {
				return badInput(err)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Name, "name", "charter-webhook-cluster-data", "ClusterRole and ClusterRoleBinding name")
	fs.StringVar(&o.Namespace, "namespace", "charter-system", "the webhook's namespace")
	fs.StringVar(&o.ServiceAccount, "service-account", "charter-webhook", "the webhook's ServiceAccount")
	fs.StringSliceVar(&o.resources, "resource", nil, "group and resource of a kind the cluster queries read, replacing its built-in and declared ones: KIND=GROUP/RESOURCE")
	o.policy.AddFlags(cmd)
	return cmd
}
