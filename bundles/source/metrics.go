package source

import "github.com/prometheus/client_golang/prometheus"

// Reasons a bundle is refused, the label values of the rejections counter.
const (
	ReasonFetch      = "fetch"      // the source could not be read
	ReasonInvalid    = "invalid"    // not a bundle, or the engine refused it
	ReasonUnverified = "unverified" // the signature is bad or could not be checked
	ReasonRollback   = "rollback"   // serial lower than the active or persisted one
	ReasonExpired    = "expired"    // metadata.expires has passed
)

// Metrics are the loader's Prometheus metrics, registered on a registry the
// caller owns.
type Metrics struct {
	Activations prometheus.Counter
	Rejections  *prometheus.CounterVec // reason
	Serial      prometheus.Gauge
	Expires     prometheus.Gauge // unix seconds; 0: never
	StateErrors prometheus.Counter
}

// NewMetrics creates the metrics and registers them on reg when not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Activations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "charter_bundle_activations_total",
			Help: "Bundles that passed every check and went into force.",
		}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_bundle_rejections_total",
			Help: "Bundles refused while the last good one kept enforcing, by reason (fetch, invalid, unverified, rollback, expired).",
		}, []string{"reason"}),
		Serial: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "charter_bundle_serial",
			Help: "Serial of the active bundle (metadata.serial).",
		}),
		Expires: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "charter_bundle_expires_timestamp_seconds",
			Help: "When the active bundle expires (metadata.expires), 0 for never: alert before it passes.",
		}),
		StateErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "charter_bundle_state_errors_total",
			Help: "Failures to persist the active bundle in the state directory.",
		}),
	}
	for _, r := range []string{ReasonFetch, ReasonInvalid, ReasonUnverified, ReasonRollback, ReasonExpired} {
		m.Rejections.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.Activations, m.Rejections, m.Serial, m.Expires, m.StateErrors)
	}
	return m
}
