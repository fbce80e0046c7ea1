package webhook

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/source"
	"github.com/prometheus/client_golang/prometheus"
)

// LoadEngine loads the policy at ref the way every enforcement point does
// (source.Open: a charter file or directory, a bundle .tar.gz or directory,
// an https:// bundle service) and prepares the engine over it.
func LoadEngine(ctx context.Context, ref string) (Decider, error) {
	h := NewHolder(ref, HolderOptions{Logger: slog.New(slog.DiscardHandler)})
	if err := h.Load(ctx); err != nil {
		return nil, err
	}
	return h.Current(), nil
}

// Loading says what a bundle must pass before it enforces and where the
// last good one is kept; the zero value accepts unsigned bundles and keeps
// nothing.
type Loading struct {
	Verify       source.Verifier // nil: no signature required
	StateDir     string          // "": nothing persisted
	PollInterval time.Duration   // how often the source is checked; the server's reload interval when zero
	MaxBackoff   time.Duration   // longest wait between polls of a failing remote source; 5 min when zero
	HTTPClient   *http.Client    // https:// sources
}

// HolderOptions configure a Holder; all fields are optional.
type HolderOptions struct {
	Loading
	Metrics  *Metrics
	Registry prometheus.Registerer // where the loader's own metrics go
	Logger   *slog.Logger
	// Cluster is the cluster data cache bundles with cluster queries read;
	// nil: such a bundle is refused.
	Cluster *ClusterData
}

// Holder is the webhook's view of the one reload mechanism
// (source.Reloader): the Decider in force, swapped atomically when the
// source changes; a bundle that fails any check is logged and counted, and
// the last good one keeps enforcing.
type Holder struct {
	ref        string
	r          *source.Reloader[Decider]
	err        error // the source or state directory could not be opened
	metrics    *Metrics
	poll       time.Duration
	maxBackoff time.Duration
	last       Decider // the Decider in force, whose cluster data is released when another replaces it
}

// NewHolder returns a Holder for the policy at ref, with nothing loaded yet.
func NewHolder(ref string, o HolderOptions) *Holder {
	h := &Holder{ref: ref, metrics: o.Metrics, poll: o.PollInterval, maxBackoff: o.MaxBackoff}
	if h.metrics == nil {
		h.metrics = NewMetrics(nil)
	}
	if h.maxBackoff <= 0 {
		h.maxBackoff = 5 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	src, err := source.Open(ref, source.Options{HTTPClient: o.HTTPClient})
	if err != nil {
		h.err = err
		return h
	}
	cfg := source.Config[Decider]{
		Source: src, Verify: o.Verify,
		Activate: func(ctx context.Context, b *bundles.Bundle) (Decider, error) { return activateWith(ctx, b, o.Cluster) }, Metrics: source.NewMetrics(o.Registry), Logger: o.Logger.With("bundle", ref),
		// Activations and rejections are counted by the loader's own
		// metrics (charter_bundle_activations_total, _rejections_total).
		OnChange: func(a *source.Active[Decider]) {
			h.metrics.setBundle(a.Value.Revision())
			h.enforcing(a.Value)
		},
	}
	if o.StateDir != "" {
		cfg.State = &source.State{Dir: o.StateDir}
	}
	h.r, h.err = source.New(cfg)
	return h
}

// Current is the Decider in force, nil before the first successful load.
func (h *Holder) Current() Decider {
	if a := h.Active(); a != nil {
		return a.Value
	}
	return nil
}

// Active is the bundle in force with its release, nil before the first load.
func (h *Holder) Active() *source.Active[Decider] {
	if h.r == nil {
		return nil
	}
	return h.r.Current()
}

// Ready reports whether a bundle is loaded and active.
func (h *Holder) Ready() bool { return h.Active() != nil }

// Remote reports whether the bundle comes over the network: a first load
// that fails is then an outage to ride out (not ready), not a typo.
func (h *Holder) Remote() bool { return h.r != nil && h.r.Source().Remote() }

// Load loads the bundle now, whether or not it changed. When the source
// fails and the state directory holds a good bundle, that one enforces, and
// the source's error is still returned.
func (h *Holder) Load(ctx context.Context) error {
	if h.err != nil {
		return h.err
	}
	return h.r.Load(ctx)
}

// Reload loads the bundle if it changed since the last attempt. It reports
// whether a new bundle went into force.
func (h *Holder) Reload(ctx context.Context) (bool, error) {
	if h.err != nil {
		return false, h.err
	}
	return h.r.Check(ctx)
}

// Watch checks the source every interval (PollInterval when set), backing
// off while a remote source fails, until ctx is done. Errors are logged and
// counted by the reloader.
func (h *Holder) Watch(ctx context.Context, interval time.Duration) {
	if h.err != nil {
		return
	}
	if h.poll > 0 {
		interval = h.poll
	}
	h.r.Run(ctx, interval, h.maxBackoff)
}
