package agent

import (
	"context"
	"fmt"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
)

// EngineSource is a rule source that can also give the policy engine, which
// the agent asks to decide every kernel event (article, action, message).
type EngineSource interface {
	Engine(ctx context.Context) (*engine.Engine, error)
}

// Engine compiles the charters and prepares the engine over them.
func (s CharterSource) Engine(ctx context.Context) (*engine.Engine, error) {
	b, _, err := bundles.FromCharters(s.Paths)
	if err != nil {
		return nil, fmt.Errorf("compile charter: %w", err)
	}
	return engine.New(ctx, b)
}

// Engine reads the bundle and prepares the engine over it.
func (s BundleSource) Engine(ctx context.Context) (*engine.Engine, error) {
	b, err := bundles.ReadFile(s.Path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	return engine.New(ctx, b)
}

// RuleSource yields the current runtime rules. The agent asks again on every
// reload tick and updates the maps when the answer changed.
type RuleSource interface {
	Rules() ([]Rule, error)
	String() string
}

// CharterSource reads rules from charter files or directories.
type CharterSource struct{ Paths []string }

// Rules loads the charters and collects their runtime rules.
func (s CharterSource) Rules() ([]Rule, error) {
	c, err := charter.LoadPaths(s.Paths)
	if err != nil {
		return nil, fmt.Errorf("load charter: %w", err)
	}
	return RulesFromCharter(c), nil
}

func (s CharterSource) String() string { return fmt.Sprintf("charter %v", s.Paths) }

// BundleSource reads rules from a compiled bundle (.tar.gz or directory),
// from the runtime part of its charter info (data.charter.info.runtime).
type BundleSource struct{ Path string }

// Rules reads the bundle and converts its runtime articles.
func (s BundleSource) Rules() ([]Rule, error) {
	b, err := bundles.ReadFile(s.Path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	return RulesFromInfo(b.Info), nil
}

func (s BundleSource) String() string { return "bundle " + s.Path }

// Info reads the bundle's compiled charter info (its council).
func (s BundleSource) Info() (compiler.Info, error) {
	b, err := bundles.ReadFile(s.Path)
	if err != nil {
		return compiler.Info{}, fmt.Errorf("read bundle: %w", err)
	}
	return b.Info, nil
}

// RulesFromInfo converts the runtime articles of a compiled charter's info.
func RulesFromInfo(info compiler.Info) []Rule {
	out := make([]Rule, 0, len(info.Runtime))
	for _, r := range info.Runtime {
		out = append(out, Rule{Article: r.Article, Title: r.Title, Severity: r.Severity, Runtime: r.Runtime})
	}
	return out
}
