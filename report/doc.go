// Package report renders decisions for people and machines: text, json,
// sarif, junit, PolicyReport and html. Every format sits behind
// the Writer interface and is chosen by name.
package report
