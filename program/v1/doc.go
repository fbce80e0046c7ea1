// Package v1 is the wire format of a compiled charter's declarative program,
// data.charter.program in a bundle, at version 1. The engine evaluates it
// natively; the types here are its own, JSON-tagged, with explicit string
// enums, so that a refactor of the charter language or the compiler cannot
// silently change what a shipped bundle means. A change of meaning is a new
// version (a new package), and Decode refuses versions it does not know.
package v1
