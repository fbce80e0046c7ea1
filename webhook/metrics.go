package webhook

import (
	"sync"

	"github.com/charter-dev/charter/bundles"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the webhook's Prometheus metrics, all named charter_*. They are
// registered on a registry the caller owns, never a global one.
type Metrics struct {
	Requests          *prometheus.CounterVec // decision, kind, operation (bounded: known values, else "other")
	Latency           *prometheus.HistogramVec
	Rejected          *prometheus.CounterVec // code: requests refused before a decision
	EvalErrors        *prometheus.CounterVec // reason: error, timeout, no_bundle, panic
	Panics            prometheus.Counter
	BundleInfo        *prometheus.GaugeVec // revision
	TLSReloads        prometheus.Counter
	TLSReloadFailures prometheus.Counter
	AuditErrors       prometheus.Counter
	// DecodeMemoryReserved is the decoding budget (DecodeBudget) held by
	// the reviews in flight.
	DecodeMemoryReserved prometheus.Gauge
	// OverrideLifted counts the denials verified overrides lifted, by article.
	OverrideLifted *prometheus.CounterVec
}

// LatencyBuckets resolve the sub-millisecond decisions a webhook should make
// and still show the tail up to the 2 s evaluation deadline.
var LatencyBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
}

// NewMetrics creates the metrics and registers them on reg when reg is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_admission_requests_total",
			Help: "Admission requests answered, by decision (allowed, denied, skipped), object kind and operation.",
		}, []string{"decision", "kind", "operation"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "charter_admission_duration_seconds",
			Help:    "Time from request received to response written, by decision.",
			Buckets: LatencyBuckets,
		}, []string{"decision"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_admission_rejected_requests_total",
			Help: "Requests refused before a decision (bad input), by HTTP status code.",
		}, []string{"code"}),
		EvalErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_evaluation_errors_total",
			Help: "Admission requests without a policy decision, by reason (error, timeout, no_bundle, panic).",
		}, []string{"reason"}),
		Panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "charter_http_panics_total",
			Help: "Panics recovered in the HTTP handler.",
		}),
		BundleInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "charter_bundle_info",
			Help: "The active bundle: 1 for its revision.",
		}, []string{"revision"}),
		TLSReloads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "charter_tls_reloads_total",
			Help: "Serving certificates reloaded from disk.",
		}),
		TLSReloadFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "charter_tls_reload_failures_total",
			Help: "Changed certificate files that did not load; the previous certificate stays in use.",
		}),
		AuditErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "charter_audit_write_errors_total",
			Help: "Decisions the audit sink failed to record.",
		}),
		DecodeMemoryReserved: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "charter_decode_memory_reserved_bytes",
			Help: "Decoding memory reserved by the reviews in flight (DecodeCost of their bodies), out of --decode-memory.",
		}),
		OverrideLifted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_override_lifted_total",
			Help: "Denials that a verified override turned into an admission (with a warning naming it), by article.",
		}, []string{"article"}),
	}
	// Export every reason at zero, so alerts on rate() work before the first error.
	for _, reason := range []string{"error", "timeout", "no_bundle", "panic"} {
		m.EvalErrors.WithLabelValues(reason)
	}
	if reg != nil {
		reg.MustRegister(m.Requests, m.Latency, m.Rejected, m.EvalErrors, m.Panics, m.BundleInfo,
			m.TLSReloads, m.TLSReloadFailures, m.AuditErrors, m.DecodeMemoryReserved, m.OverrideLifted)
	}
	return m
}

// setBundle marks revision as the only active bundle.
func (m *Metrics) setBundle(revision string) {
	m.BundleInfo.Reset()
	m.BundleInfo.WithLabelValues(revision).Set(1)
}

// Label values for kind and operation come from request bodies, which anyone
// who reaches the Service can write. They are bounded: a value is used only
// when it is known, else it is "other".
const otherLabel = "other"

// operationLabel bounds the operation label to the four admission operations.
func operationLabel(op string) string {
	switch op {
	case "CREATE", "UPDATE", "DELETE", "CONNECT":
		return op
	}
	return otherLabel
}

// builtinKinds are the kinds the webhook configuration can route to the
// webhook without the bundle naming them: workloads and the objects of
// subresources.
var builtinKinds = map[string]bool{
	"Pod": true, "PodTemplate": true, "ReplicationController": true, "Deployment": true, "ReplicaSet": true,
	"StatefulSet": true, "DaemonSet": true, "Job": true, "CronJob": true, "Service": true, "Ingress": true,
	"PodExecOptions": true, "PodAttachOptions": true, "PodPortForwardOptions": true, "PodProxyOptions": true,
	"Binding": true, "Eviction": true, "Scale": true,
}

// kindLabels bounds the kind label to builtinKinds and the kinds the active
// bundle names, computed once per bundle revision.
type kindLabels struct {
	mu       sync.Mutex
	revision string
	known    map[string]bool
}

// catalogue is what a Decider offers when it can say which kinds its
// articles match (an *engine.Engine does).
type catalogue interface {
	Bundle() *bundles.Bundle
}

func (k *kindLabels) label(src Source, kind string) string {
	if builtinKinds[kind] {
		return kind
	}
	d := src.Current()
	c, ok := d.(catalogue)
	if !ok || c.Bundle() == nil {
		return otherLabel
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.known == nil || k.revision != d.Revision() {
		k.revision, k.known = d.Revision(), map[string]bool{}
		for _, a := range c.Bundle().Info.Articles {
			for _, kind := range a.Kinds {
				k.known[kind] = true
			}
		}
	}
	if k.known[kind] {
		return kind
	}
	return otherLabel
}
