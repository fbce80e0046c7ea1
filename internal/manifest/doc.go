// Package manifest reads the Kubernetes objects to evaluate: exactly the
// objects `kubectl apply -R -f` would send from the same files, directories
// and standard input (decoded with kubectl's own k8s.io/cli-runtime and
// apimachinery pieces, and proven equal to its resource builder by a
// differential test and a fuzz target), keeping each object's file, index
// and line, and reporting bad input as file:line:col.
package manifest
