// Package reporttest checks report outputs with real consumers, for the
// tests of report and of the commands that write reports: SARIF against the
// published SARIF 2.1.0 JSON schema (vendored in report/testdata), validated
// by github.com/santhosh-tekuri/jsonschema with format assertions on.
package reporttest
