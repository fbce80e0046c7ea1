package webhook

import (
	"context"
	"time"
)

// LoadDir reads the directory again (overrides.Dir, the reader every
// enforcement point shares) and reports whether its documents changed. A
// file that does not parse is kept as an ignored entry (logged and counted,
// lifting nothing). A directory that cannot be read is an error, and none
// of its overrides counts until it can be read again (overrides.Dir fails
// closed): a directory that went away lifts nothing.
func (o *Overrides) LoadDir() (bool, error) {
	if o.dir == nil {
		return false, nil
	}
	return o.dir.Reload(o.pool)
}

// Watch keeps the verified set in force until ctx ends. It reads the
// directory every interval (on a goroutine of its own), and verifies the
// documents of every origin against the bundle in force (src) whenever the
// pool changes (a file, an Override object), a request meets a bundle whose
// overrides are not verified yet, an override starts or expires, and every
// interval (a new bundle): overrides added, changed, removed, starting or
// expiring are logged and counted at once, without a request, and decisions
// use them as soon as they are verified. Requests never wait for it.
func (o *Overrides) Watch(ctx context.Context, src Source, interval time.Duration) {
	if o.dir != nil {
		go poll(ctx, interval, func() {
			if changed, err := o.LoadDir(); err != nil {
				o.log.Error("overrides directory not read: none of its overrides counts until it is", "dir", o.dir.Path, "err", err)
			} else if changed {
				o.log.Info("overrides directory changed", "dir", o.dir.Path)
			}
		})
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		o.Refresh(src.Current())
		var edge *time.Timer
		var edgeC <-chan time.Time
		if until := o.next(); !until.IsZero() {
			edge = time.NewTimer(max(time.Until(until), time.Millisecond))
			edgeC = edge.C
		}
		select {
		case <-ctx.Done():
		case <-o.pool.Changed():
		case <-o.stale:
		case <-tick.C:
		case <-edgeC:
		}
		if edge != nil {
			edge.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}
