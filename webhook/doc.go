// Package webhook is charter's Kubernetes validating admission webhook: a thin
// HTTPS shell that decodes AdmissionReview requests, asks a Decider (the
// engine) for a decision, and answers with an AdmissionReview response. Around
// that shell sit the parts a cluster operator relies on: a bundle holder that
// hot-reloads and swaps compiled bundles atomically, a TLS certificate
// reloader, Prometheus metrics, an audit sink, and health and readiness
// endpoints. It fails closed on purpose: an evaluation error or timeout
// denies, unless the operator asked for fail-open.
package webhook
