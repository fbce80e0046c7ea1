// Package deploy tests that charter's own manifests pass its default charter:
// deploy/ rendered by kubectl's kustomize (bin/kubectl) and decided by
// `charter eval --charter policies/anti-delos.yaml`, the charter-agent
// exception included, and that the exception admits the agent only.
package deploy
