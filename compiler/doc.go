// Package compiler turns a Charter into Rego v1 modules and the data document
// of an OPA bundle. It is pure: no I/O beyond its arguments.
//
// Layout of the output (paths are bundle-relative):
//
//	charter/lib.rego             package charter.lib: input normalisation, pod templates, helpers
//	charter/charter.rego         package charter: decision, deny, warn (conftest namespace "charter")
//	charter/articles/<id>.rego   package charter.articles.<id>: one module per article, findings set
//	data.json                    {"charter": {"info": {...}}}: article catalogue, scope, runtime rules
package compiler
