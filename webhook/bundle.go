package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/engine"
)

// LoadFunc loads and compiles the policy at path into a ready Decider.
type LoadFunc func(ctx context.Context, path string) (Decider, error)

// LoadEngine is the default LoadFunc: a bundle (.tar.gz or directory) read
// with bundles.ReadFile, or a charter source (.yaml, .yml) compiled on the
// spot, prepared by engine.New.
func LoadEngine(ctx context.Context, path string) (Decider, error) {
	var b *bundles.Bundle
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		b, err = compileCharter(path)
	default:
		b, err = bundles.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	e, err := engine.New(ctx, b)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func compileCharter(path string) (*bundles.Bundle, error) {
	b, _, err := bundles.FromCharters([]string{path})
	if err != nil {
		return nil, fmt.Errorf("compile charter %s: %w", path, err)
	}
	return b, nil
}

// Holder keeps the Decider in force and replaces it when the bundle file
// changes. A new bundle is loaded and compiled completely before an atomic
// swap, so every request sees exactly one bundle; a bundle that fails to load
// is logged and counted, and the last good one keeps enforcing.
type Holder struct {
	path    string
	load    LoadFunc
	metrics *Metrics
	log     *slog.Logger

	current atomic.Pointer[deciderBox]

	mu   sync.Mutex // serialises reloads
	seen fileState  // the file state last tried, good or bad
}

type deciderBox struct{ d Decider }

// HolderOptions configure a Holder; all fields are optional.
type HolderOptions struct {
	Load    LoadFunc // LoadEngine when nil
	Metrics *Metrics
	Logger  *slog.Logger
}

// NewHolder returns a Holder for the bundle at path, with nothing loaded yet.
func NewHolder(path string, o HolderOptions) *Holder {
	h := &Holder{path: path, load: o.Load, metrics: o.Metrics, log: o.Logger}
	if h.load == nil {
		h.load = LoadEngine
	}
	if h.metrics == nil {
		h.metrics = NewMetrics(nil)
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

// Current is the Decider in force, nil before the first successful load.
func (h *Holder) Current() Decider {
	if b := h.current.Load(); b != nil {
		return b.d
	}
	return nil
}

// Ready reports whether a bundle is loaded and active.
func (h *Holder) Ready() bool { return h.current.Load() != nil }

// Load loads the bundle now, whether or not the file changed.
func (h *Holder) Load(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.loadLocked(ctx, stateOf(h.watched()...))
}

// watched lists what a reload looks at: the bundle, or a charter file and
// its directory, where the charters it includes usually live.
func (h *Holder) watched() []string {
	switch filepath.Ext(h.path) {
	case ".yaml", ".yml":
		return []string{h.path, filepath.Dir(h.path)}
	}
	return []string{h.path}
}

// Reload loads the bundle if its file changed since the last attempt. It
// reports whether a new bundle went into force.
func (h *Holder) Reload(ctx context.Context) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := stateOf(h.watched()...)
	if st == h.seen {
		return false, nil
	}
	prev := h.Current()
	if err := h.loadLocked(ctx, st); err != nil {
		return false, err
	}
	return h.Current() != prev, nil
}

func (h *Holder) loadLocked(ctx context.Context, st fileState) error {
	h.seen = st
	start := time.Now()
	d, err := h.load(ctx, h.path)
	if err != nil {
		h.metrics.BundleFailures.Inc()
		if cur := h.Current(); cur != nil {
			h.log.Error("bundle rejected; the last good bundle keeps enforcing",
				"path", h.path, "err", err, "active", cur.Revision())
		} else {
			h.log.Error("bundle rejected; no bundle is active", "path", h.path, "err", err)
		}
		return fmt.Errorf("load bundle %s: %w", h.path, err)
	}
	if cur := h.Current(); cur != nil && cur.Revision() == d.Revision() {
		return nil
	}
	h.current.Store(&deciderBox{d})
	h.metrics.BundleReloads.Inc()
	h.metrics.setBundle(d.Revision())
	h.log.Info("bundle active", "path", h.path, "revision", d.Revision(), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// Watch polls the bundle file every interval and reloads it when it changes,
// until ctx is done. Errors are logged and counted by Reload itself.
func (h *Holder) Watch(ctx context.Context, interval time.Duration) {
	poll(ctx, interval, func() { _, _ = h.Reload(ctx) })
}
