// Package plugin runs charter inside the stock OPA runtime, in the style of
// opa-envoy-plugin: a factory registered with OPA's runtime.RegisterPlugin
// under the name "charter" (`charter opa run` registers it; the runtime, its
// flags, REST API, bundle, discovery, status and decision-log plugins are
// OPA's own, unforked).
//
// The plugin is the charter bundle's loader inside OPA: it fetches the bundle
// configured in plugins.charter.bundle with the one loader every enforcement
// point uses (bundles/source: signature check with charter's keys, serial
// rollback floor, expiry, state directory) and only then activates it into
// OPA's store under data.charter, where POST /v1/data/charter/decision
// evaluates it. That route is answered by charter's native evaluator (the
// webhook's engine) when the bundle is fully declarative, and by OPA
// otherwise; every charter decision goes to charter's audit log, directly or
// as OPA's decision-log plugin when decision_logs.plugin is "charter".
//
// With plugins.charter.overrides, the plugin also reads a directory of
// Override documents (overrides.Dir, hot reload), verifies them against the
// council of the bundle in force, and writes only the verified ones at
// data.charter_overrides with its own store transactions (with each bundle
// activation, and whenever the directory or an override's time window
// changes the set). The bundle claims that root, so OPA's REST API refuses
// writes there; the native path decides with the same verified set.
package plugin
