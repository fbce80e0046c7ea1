package webhook

import (
	"context"
	"time"

	"github.com/charter-dev/charter/overrides"
)

// LoadDir reads the directory again (overrides.Dir, the reader every
// enforcement point shares) and reports whether its documents changed. A
// file that does not parse is kept as an ignored entry (logged and counted,
// lifting nothing). A directory that cannot be read is an error, and here,
// unlike overrides.Dir alone, none of its overrides counts until it can be
// read again: at admission a directory that went away lifts nothing.
func (o *Overrides) LoadDir() (bool, error) {
	if o.dir == nil {
		return false, nil
	}
	changed, err := o.dir.Reload(o.pool)
	if err != nil {
		o.pool.Replace(o.dir.Origin(), nil)
		// A fresh reader puts the documents back at the next good read,
		// even when they are the ones read before.
		o.dir = overrides.NewDir(o.dir.Path)
		return false, err
	}
	return changed, nil
}

// Watch reads the directory every interval, and verifies the documents of
// every origin against the bundle in force (src), until ctx ends: overrides
// added, changed, removed, starting or expiring are logged and counted
// within one interval, and decisions use them at once.
func (o *Overrides) Watch(ctx context.Context, src Source, interval time.Duration) {
	poll(ctx, interval, func() {
		if changed, err := o.LoadDir(); err != nil {
			o.log.Error("overrides directory not read: none of its overrides counts until it is", "dir", o.dir.Path, "err", err)
		} else if changed {
			o.log.Info("overrides directory changed", "dir", o.dir.Path)
		}
		o.Refresh(src.Current())
	})
}
