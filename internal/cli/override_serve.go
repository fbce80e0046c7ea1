package cli

import (
	"fmt"

	"github.com/charter-dev/charter/webhook"
	"github.com/spf13/pflag"
)

// overrideServeOptions are the override flags of webhook serve.
type overrideServeOptions struct {
	Dir     string
	Objects bool
}

func (o *overrideServeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Dir, "overrides", "", "directory of Override documents, read again every --reload-interval: those the bundle's council approved lift matching denials (the others are ignored, logged and counted in charter_overrides_ignored)")
	fs.BoolVar(&o.Objects, "override-objects", false, "also watch the cluster's Override objects (charter.dev/v1, deploy/crds): transport only, each counts only with valid council signatures; /readyz waits for their first list")
}

// apply sets the webhook's override options from the flags.
func (o *overrideServeOptions) apply(w *webhook.Options, cluster *webhookClusterOptions) error {
	w.OverridesDir = o.Dir
	if !o.Objects {
		return nil
	}
	inf, err := cluster.Informers()
	if err != nil {
		return fmt.Errorf("--override-objects: %w", err)
	}
	w.OverrideObjects, w.Informers = true, inf
	return nil
}
