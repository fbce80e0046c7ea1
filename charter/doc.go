// Package charter is the Charter language: its types, a YAML parser that keeps
// file:line:col for every node, and the validation that reports every error at once.
//
// It does no network and no exec; it reads files only to follow includes.
package charter
