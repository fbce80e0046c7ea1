// Package chartergen generates random charters from the charter language's
// grammar, as YAML text for the real parser, and random objects and
// AdmissionReviews that are likely to reach the paths those charters read.
// The engine's differential tests and fuzz targets use it to hold the native
// evaluator equal to OPA on charters nobody wrote by hand.
package chartergen
