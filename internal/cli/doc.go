// Package cli holds charter's cobra commands. Commands turn flags into
// options and call library packages; they hold no policy logic.
package cli
