package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
)

// Active is the bundle in force and what was made of it.
type Active[T any] struct {
	Value   T
	Bundle  *bundles.Bundle
	Charter *charter.Charter // charter sources only
	Release Release
	From    string // the source, or the state directory after a restart
}

// Rejection says why a bundle was refused; Reason is one of the Reason* values.
type Rejection struct {
	Reason string
	Err    error
}

func (r *Rejection) Error() string { return r.Err.Error() }
func (r *Rejection) Unwrap() error { return r.Err }

// ReasonOf is the Reason of a Rejection in err's chain, "" for none.
func ReasonOf(err error) string {
	var r *Rejection
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// Config configures a Reloader. Source and Activate are required.
type Config[T any] struct {
	Source Source
	// Activate prepares what enforces the bundle (an engine); an error
	// refuses the bundle.
	Activate func(ctx context.Context, b *bundles.Bundle) (T, error)
	// Verify checks the signature before anything is parsed or activated;
	// nil accepts unsigned bundles and reads the release from the manifest.
	Verify   Verifier
	State    *State // nil: nothing persisted
	Metrics  *Metrics
	Logger   *slog.Logger
	Now      func() time.Time
	OnChange func(a *Active[T])             // called after each activation
	OnReject func(reason string, err error) // called after each refusal
}

// Reloader keeps one bundle in force: it fetches what changed, verifies,
// refuses rollbacks and expired bundles, activates completely before an
// atomic swap, and keeps the last good bundle enforcing on any error.
type Reloader[T any] struct {
	cfg     Config[T]
	current atomic.Pointer[Active[T]]

	mu    sync.Mutex // serialises checks
	seen  string     // fingerprint last tried, good or bad
	floor int64      // the persisted serial
}

// New returns a Reloader with nothing active yet; it reads the state
// directory's serial floor.
func New[T any](cfg Config[T]) (*Reloader[T], error) {
	if cfg.Source == nil || cfg.Activate == nil {
		return nil, errors.New("source: a Reloader needs a Source and an Activate function")
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Reloader[T]{cfg: cfg}
	if cfg.State != nil {
		floor, err := cfg.State.Floor()
		if err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		r.floor = floor
		r.raiseFloorFromState()
	}
	return r, nil
}

// raiseFloorFromState: state.json's serial is a plain number that anyone
// who can write the directory can lower, but the persisted bundle's own
// serial is signed. The floor is the higher of the two. A persisted bundle
// that does not load or verify raises nothing (and will not enforce).
func (r *Reloader[T]) raiseFloorFromState() {
	files, err := r.cfg.State.Bundle()
	if err != nil || files == nil {
		return
	}
	rel, err := r.release(files)
	if err != nil || rel.Serial <= r.floor {
		return
	}
	r.cfg.Logger.Warn("the state file's serial is lower than the persisted bundle's (edited?); the bundle's serial is the floor",
		"dir", r.cfg.State.Dir, "state_serial", r.floor, "bundle_serial", rel.Serial, "verified", rel.Verified)
	r.floor = rel.Serial
}

// Current is the bundle in force, nil before the first activation.
func (r *Reloader[T]) Current() *Active[T] { return r.current.Load() }

// Ready reports whether a bundle is in force.
func (r *Reloader[T]) Ready() bool { return r.current.Load() != nil }

// Source is the reloader's source.
func (r *Reloader[T]) Source() Source { return r.cfg.Source }

// Load fetches the bundle now, changed or not. When that fails and a state
// directory holds a good bundle, that one goes into force (after the same
// checks). The error is the source's, also when the state saved the day.
func (r *Reloader[T]) Load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.checkLocked(ctx, "")
	if err != nil && r.cfg.State != nil && r.Current() == nil {
		if serr := r.loadStateLocked(ctx); serr != nil {
			r.cfg.Logger.Error("no good bundle in the state directory either", "dir", r.cfg.State.Dir, "err", serr)
		}
	}
	return err
}

// Check fetches the bundle if it changed since the last attempt and
// activates it when it passes. It reports whether a new bundle went into force.
func (r *Reloader[T]) Check(ctx context.Context) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkLocked(ctx, r.seen)
}

func (r *Reloader[T]) checkLocked(ctx context.Context, since string) (bool, error) {
	src := r.cfg.Source
	f, err := src.Fetch(ctx, since)
	if errors.Is(err, ErrNotModified) {
		return false, nil
	}
	if err != nil {
		if fe := (*FetchError)(nil); errors.As(err, &fe) {
			r.seen = fe.Fingerprint
		}
		// A source that read the files but found them no bundle or charter
		// says so (ReasonInvalid); anything else is a failed fetch.
		reason := ReasonOf(err)
		if reason == "" {
			reason = ReasonFetch
		}
		return false, r.reject(&Rejection{reason, fmt.Errorf("load %s: %w", src, err)})
	}
	r.seen = f.Fingerprint
	return r.accept(ctx, f, src.String())
}

func (r *Reloader[T]) loadStateLocked(ctx context.Context) error {
	files, err := r.cfg.State.Bundle()
	if err != nil {
		return err
	}
	if files == nil {
		return errors.New("the state directory holds no bundle yet")
	}
	_, err = r.accept(ctx, &Fetched{Files: files}, "state directory "+r.cfg.State.Dir)
	return err
}

// accept runs every check, then activates and persists.
func (r *Reloader[T]) accept(ctx context.Context, f *Fetched, from string) (bool, error) {
	rel, err := r.release(f.Files)
	if err != nil {
		return false, r.reject(err)
	}
	if rel.Expired(r.cfg.Now()) {
		return false, r.reject(&Rejection{ReasonExpired, fmt.Errorf("bundle from %s expired at %s", from, rel.Expires.Format(time.RFC3339))})
	}
	floor, floorFrom := r.floor, "persisted"
	if cur := r.Current(); cur != nil && cur.Release.Serial > floor {
		floor, floorFrom = cur.Release.Serial, "active"
	}
	if rel.Serial < floor {
		return false, r.reject(&Rejection{ReasonRollback, fmt.Errorf("bundle from %s has serial %d, lower than the %s serial %d: refusing a rollback", from, rel.Serial, floorFrom, floor)})
	}
	b := f.Bundle
	if b == nil {
		if b, err = bundles.Parse(f.Files); err != nil {
			return false, r.reject(&Rejection{ReasonInvalid, fmt.Errorf("bundle from %s: %w", from, err)})
		}
	}
	if cur := r.Current(); cur != nil && cur.Bundle.Revision() == b.Revision() && cur.Release.Serial == rel.Serial {
		return false, nil
	}
	start := time.Now()
	v, err := r.cfg.Activate(ctx, b)
	if err != nil {
		return false, r.reject(&Rejection{ReasonInvalid, fmt.Errorf("bundle from %s: %w", from, err)})
	}
	m := r.cfg.Metrics
	// Persist before the swap: whatever enforces is also what a restart finds.
	if r.cfg.State != nil && f.Charter == nil {
		if err := r.cfg.State.Save(f.Files, rel.Serial, from); err != nil {
			m.StateErrors.Inc()
			r.cfg.Logger.Error("could not persist the active bundle", "dir", r.cfg.State.Dir, "err", err)
		} else if rel.Serial > r.floor {
			r.floor = rel.Serial
		}
	}
	a := &Active[T]{Value: v, Bundle: b, Charter: f.Charter, Release: rel, From: from}
	r.current.Store(a)
	m.Activations.Inc()
	m.Serial.Set(float64(rel.Serial))
	if rel.Expires.IsZero() {
		m.Expires.Set(0)
	} else {
		m.Expires.Set(float64(rel.Expires.Unix()))
	}
	r.cfg.Logger.Info("bundle active", "from", from, "revision", b.Revision(), "serial", rel.Serial,
		"verified", rel.Verified, "took", time.Since(start).Round(time.Millisecond).String())
	if r.cfg.OnChange != nil {
		r.cfg.OnChange(a)
	}
	return true, nil
}

func (r *Reloader[T]) release(files bundles.Files) (Release, error) {
	if r.cfg.Verify == nil {
		rel, err := ManifestRelease(files)
		if err != nil {
			return rel, &Rejection{ReasonInvalid, err}
		}
		return rel, nil
	}
	rel, err := r.cfg.Verify.Verify(files)
	if err != nil {
		return rel, &Rejection{ReasonUnverified, err}
	}
	rel.Verified = true
	return rel, nil
}

func (r *Reloader[T]) reject(err error) error {
	reason := ReasonOf(err)
	r.cfg.Metrics.Rejections.WithLabelValues(reason).Inc()
	if r.cfg.OnReject != nil {
		r.cfg.OnReject(reason, err)
	}
	if cur := r.Current(); cur != nil {
		r.cfg.Logger.Error("bundle rejected; the last good bundle keeps enforcing", "reason", reason, "err", err,
			"active", cur.Bundle.Revision(), "serial", cur.Release.Serial)
	} else {
		r.cfg.Logger.Error("bundle rejected; no bundle is active", "reason", reason, "err", err)
	}
	return err
}

// Run checks the source every interval until ctx is done. After failures to
// reach a remote source it waits longer, exponentially up to maxBackoff, with
// jitter, so that many replicas do not hammer a recovering service together.
func (r *Reloader[T]) Run(ctx context.Context, interval, maxBackoff time.Duration) {
	failures := 0
	for {
		wait := interval
		if r.cfg.Source.Remote() {
			wait = Backoff(interval, maxBackoff, failures, rand.Float64())
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		_, err := r.Check(ctx)
		if ReasonOf(err) == ReasonFetch {
			failures++
		} else {
			failures = 0
		}
	}
}

// Backoff is the wait before the next poll after failures consecutive failed
// fetches: interval doubled per failure, capped at max, then scaled by a
// jitter factor in [0.5, 1.5) taken from u in [0, 1). With no failure it is
// the plain interval.
func Backoff(interval, max time.Duration, failures int, u float64) time.Duration {
	if failures <= 0 {
		return interval
	}
	d := interval
	for i := 0; i < failures && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return time.Duration(float64(d) * (0.5 + u))
}
