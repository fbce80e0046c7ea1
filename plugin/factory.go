package plugin

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/charter-dev/charter/bundles/source"
	charterkeys "github.com/charter-dev/charter/keys"
	"github.com/open-policy-agent/opa/v1/plugins"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Factory makes the charter plugin; register it with
// runtime.RegisterPlugin(plugin.Name, plugin.NewFactory(...)).
type Factory struct {
	log *slog.Logger
}

// NewFactory returns the plugin factory; log receives the loader's messages
// (nil: slog.Default()).
func NewFactory(log *slog.Logger) *Factory {
	if log == nil {
		log = slog.Default()
	}
	return &Factory{log: log}
}

// validated is what Validate hands to New.
type validated struct {
	cfg    *Config
	verify source.Verifier
}

// Validate parses plugins.charter and loads its keys, so a bad key stops OPA
// from starting instead of leaving it serving unverified bundles.
func (f *Factory) Validate(m *plugins.Manager, raw []byte) (any, error) {
	cfg, err := ParseConfig(raw)
	if err != nil {
		return nil, err
	}
	names, err := bundleNames(m.Config.Bundles)
	if err != nil {
		return nil, fmt.Errorf("plugins.%s: read bundles: %w", Name, err)
	}
	if slices.Contains(names, Name) {
		return nil, fmt.Errorf("plugins.%s: bundles.%s is configured too; OPA would replace the verified charter bundle with it: name it otherwise, or give it to plugins.%s.bundle", Name, Name, Name)
	}
	v := validated{cfg: cfg}
	if len(cfg.Keys) > 0 {
		trusted := make([]signature.Verifier, 0, len(cfg.Keys))
		for _, p := range cfg.Keys {
			k, err := charterkeys.LoadPublic(p)
			if err != nil {
				return nil, fmt.Errorf("plugins.%s.keys: %s: %w", Name, p, err)
			}
			trusted = append(trusted, k)
		}
		v.verify = source.Keys(trusted...)
	}
	return v, nil
}

// New returns the plugin; OPA starts it after its store is ready.
func (f *Factory) New(m *plugins.Manager, config any) plugins.Plugin {
	p := &Plugin{m: m, log: f.log, cfg: config.(validated)}
	m.UpdatePluginStatus(Name, &plugins.Status{State: plugins.StateNotReady})
	// The middleware wraps every route of OPA's server; it answers only
	// POST /v1/data/charter/decision, and only while it can answer as OPA would.
	m.ExtraMiddleware(p.middleware)
	return p
}
