// Package engine evaluates inputs against a loaded charter bundle with
// embedded OPA. It is the only place that evaluates policy: the query is
// prepared once and Decide is safe for concurrent use.
package engine
