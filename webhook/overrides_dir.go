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
