// Package policies holds the shipped charters and their tests.
package policies
