package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/charter-dev/charter/webhook"
	"github.com/spf13/pflag"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// webhookClusterOptions reach the cluster the webhook watches (Override
// objects, cluster data): one client and one informer factory for every
// watch, made on first use.
type webhookClusterOptions struct {
	Kubeconfig string
	informers  *webhook.Informers
}

func (o *webhookClusterOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig for the cluster watches (--override-objects); default: in-cluster, else $KUBECONFIG or ~/.kube/config")
}

// Informers is the shared informer factory, connected on first use.
func (o *webhookClusterOptions) Informers() (*webhook.Informers, error) {
	if o.informers != nil {
		return o.informers, nil
	}
	cfg, err := o.restConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster client: %w", err)
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster client: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster client: %w", err)
	}
	o.informers = webhook.NewInformers(client, 10*time.Minute, webhook.WithMetadataClient(meta))
	return o.informers, nil
}

func (o *webhookClusterOptions) restConfig() (*rest.Config, error) {
	if o.Kubeconfig == "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return rest.InClusterConfig()
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
}
