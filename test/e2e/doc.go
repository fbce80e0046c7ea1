// Package e2e proves the admission webhook against a real kube-apiserver and
// etcd (see package cluster): the webhook is registered by URL with its
// caBundle, and every scenario goes through client-go as a user would.
package e2e
