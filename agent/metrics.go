package agent

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the agent's Prometheus series, all named charter_agent_*.
type Metrics struct {
	events  *prometheus.CounterVec
	denials *prometheus.CounterVec
	rules   prometheus.Gauge
	reloads *prometheus.CounterVec
	hook    *prometheus.GaugeVec
	scope   prometheus.Gauge
	errors  *prometheus.CounterVec

	exemptions       prometheus.Gauge
	overridesIgnored *prometheus.CounterVec
}

// NewMetrics registers the agent's series on reg; a nil reg registers nothing.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_agent_events_total",
			Help: "Kernel events read from the ring buffer, by kind and verdict.",
		}, []string{"kind", "verdict"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_agent_denials_total",
			Help: "Operations the kernel refused or killed, by kind and article.",
		}, []string{"kind", "article"}),
		rules: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "charter_agent_rules",
			Help: "Runtime rules loaded into the kernel maps.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_agent_rule_reloads_total",
			Help: "Rule set changes applied to the maps, by result.",
		}, []string{"result"}),
		hook: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "charter_agent_hook_path",
			Help: "1 for the hook path in use (lsm or tracepoint).",
		}, []string{"path"}),
		scope: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "charter_agent_scoped_cgroups",
			Help: "Cgroups in scope (their descendants are too).",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_agent_errors_total",
			Help: "Errors while handling events, by stage.",
		}, []string{"stage"}),
		exemptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "charter_agent_exemptions",
			Help: "Break-glass exemptions in the kernel: (pod cgroup, rule) pairs a verified override lifts.",
		}),
		overridesIgnored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "charter_agent_overrides_ignored_total",
			Help: "Override files that do not count, by the check that failed (expired, approvals, revoked, malformed...), counted when the ignored set changes.",
		}, []string{"check"}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.denials, m.rules, m.reloads, m.hook, m.scope, m.errors, m.exemptions, m.overridesIgnored)
	}
	return m
}

// registerLost exports the kernel's lost-event counter, read at scrape time.
func registerLost(reg prometheus.Registerer, read func() float64) error {
	if reg == nil {
		return nil
	}
	return reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "charter_agent_lost_events_total",
		Help: "Events the kernel dropped because the ring buffer was full.",
	}, read))
}
