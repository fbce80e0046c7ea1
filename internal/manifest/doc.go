// Package manifest reads Kubernetes objects to evaluate: multi-document YAML,
// JSON, directories (recursively) and standard input, keeping each object's
// file and document index, and reporting bad input as file:line:col.
package manifest
