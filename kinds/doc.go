// Package kinds knows the built-in Kubernetes kinds, derived from client-go's
// scheme (k8s.io/api), with their group/version, scope and the subresources
// admission sees by kind: it checks the kinds a charter names, suggests the
// right spelling for a wrong one, and tells namespaced kinds from
// cluster-scoped ones for namespace defaulting.
package kinds
