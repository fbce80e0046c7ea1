// Package cluster starts a real control plane for tests: etcd and
// kube-apiserver, built from the pinned tools/kube module into the
// repository's bin/ (by `make e2e-tools`), on free local ports, with a static
// token for an admin user. No kubelet runs: objects are admitted and stored,
// never scheduled, which is all an admission webhook test needs.
package cluster
