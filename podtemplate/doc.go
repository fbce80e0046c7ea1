// Package podtemplate is the one table of where each kind keeps its pod
// (spec and metadata): the built-in workloads, plus the custom resources a
// charter declares in spec.podTemplates (an Argo Rollout, an OpenKruise
// CloneSet). The compiler generates the Rego library's part from it, the
// native evaluator and the webhook's rules read the same table from the
// bundle, so a Pod article covers exactly the same kinds everywhere.
package podtemplate
