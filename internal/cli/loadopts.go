package cli

import (
	"time"

	"github.com/spf13/pflag"
)

// loaderOptions are the flags of a long-running enforcement point (webhook
// serve, agent run) about where its bundle is kept and how often it is polled.
type loaderOptions struct {
	StateDir     string
	PollInterval time.Duration
}

func (o *loaderOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.StateDir, "state-dir", "", "keep the last good bundle and the highest serial here (written atomically): a restart with the source down comes up on it, and never accepts a lower serial")
	fs.DurationVar(&o.PollInterval, "poll-interval", 0, "how often to check the bundle source for a new bundle (default: the reload interval); remote sources back off exponentially with jitter while they fail")
}
