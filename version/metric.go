package version

import "github.com/prometheus/client_golang/prometheus"

// BuildInfoMetric is charter_build_info: always 1, labelled with the build,
// so a dashboard can tell which versions run (as go_build_info and
// kubernetes_build_info do).
func BuildInfoMetric(i Info) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "charter_build_info",
		Help: "The charter build: 1, labelled with its version, commit, Go, OPA and Kubernetes library versions.",
		ConstLabels: prometheus.Labels{
			"version": i.Version, "commit": i.Commit, "goversion": i.GoVersion,
			"opa_version": i.OPA, "kubernetes_version": i.Kubernetes,
		},
	})
	g.Set(1)
	return g
}
