// Package charters holds example charters for the language's constructs
// that go beyond one path compared with a constant (UPDATE rules over
// oldObject, joins, parameters, cluster data), each with inline tests. The
// package's test runs those tests through the native evaluator and through
// OPA alone, and holds the two to the same decision on every test object.
package charters
