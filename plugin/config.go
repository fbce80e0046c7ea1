package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Name is the plugin's name in OPA's configuration (plugins.charter) and of
// its bundle in OPA's store.
const Name = "charter"

// DecisionPath is the document a charter decision is read from.
const DecisionPath = "charter/decision"

// Config is plugins.charter in OPA's configuration. Its fields are a wire
// format: renamed never, added only.
type Config struct {
	// Bundle is the charter bundle: a .tar.gz, a bundle directory, a charter
	// file or directory, or an https:// bundle service (as --bundle of
	// charter webhook serve).
	Bundle string `json:"bundle"`
	// Keys are cosign-format public keys; with any, a bundle enforces only
	// when one of them signed it.
	Keys []string `json:"keys,omitempty"`
	// StateDir keeps the last good bundle and the serial floor.
	StateDir string `json:"state_dir,omitempty"`
	// PollInterval is how often the source is checked (Go duration, 10s).
	PollInterval string `json:"poll_interval,omitempty"`
	// AuditLog is charter's tamper-evident audit log; "-" writes JSON lines
	// to standard output; empty keeps no audit.
	AuditLog  string `json:"audit_log,omitempty"`
	AuditSync bool   `json:"audit_sync,omitempty"`
	// Overrides is a directory of Override documents: those the council of
	// the bundle in force approved (verified at each change of the
	// directory, the bundle or an override's time window) are loaded into
	// OPA's store at data.charter_overrides, where data.charter.decision
	// applies them; the others are ignored and logged.
	Overrides string `json:"overrides,omitempty"`
	// NativeDecisions answers POST /v1/data/charter/decision with charter's
	// native evaluator when the bundle allows (default true); false leaves
	// every query to OPA.
	NativeDecisions *bool `json:"native_decisions,omitempty"`

	poll time.Duration
}

// Native reports whether the native decision path is on.
func (c *Config) Native() bool { return c.NativeDecisions == nil || *c.NativeDecisions }

// ParseConfig reads plugins.charter, refusing unknown fields (a misspelt
// "key" must not leave the bundle unverified).
func ParseConfig(raw []byte) (*Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("plugins.%s: %w", Name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("plugins.%s: data after the configuration object", Name)
	}
	if c.Bundle == "" {
		return nil, fmt.Errorf("plugins.%s.bundle is required", Name)
	}
	c.poll = 10 * time.Second
	if c.PollInterval != "" {
		d, err := time.ParseDuration(c.PollInterval)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("plugins.%s.poll_interval %q: want a positive duration such as 10s", Name, c.PollInterval)
		}
		c.poll = d
	}
	if c.AuditSync && (c.AuditLog == "" || c.AuditLog == "-") {
		return nil, errors.New("plugins." + Name + ".audit_sync needs audit_log set to a file")
	}
	return &c, nil
}

// decisionLogs is what the plugin reads of OPA's decision_logs section: where
// OPA's decision-log plugin sends its events.
type decisionLogs struct {
	Plugin  string `json:"plugin"`
	Service string `json:"service"`
	Console bool   `json:"console"`
}

// bundleNames are the names of the bundles OPA's own bundle plugin loads.
func bundleNames(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	return names, nil
}
