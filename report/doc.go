// Package report renders decisions for people and machines: text, json
// (and, as they land, sarif, junit and PolicyReport). Every format sits behind
// the Writer interface and is chosen by name.
package report
