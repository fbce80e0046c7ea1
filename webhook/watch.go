package webhook

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// fileState fingerprints files by what changes when they are rewritten:
// size, modification time, and identity (a Secret or ConfigMap update in a
// pod swaps a symlink, which changes the inode Stat follows to).
type fileState string

// stateOf fingerprints the files at paths; a directory stands for every file
// under it. Unreadable paths are part of the state, so a file appearing later
// is a change.
func stateOf(paths ...string) fileState {
	var b []byte
	add := func(p string, fi fs.FileInfo) {
		b = append(b, p...)
		b = append(b, 0)
		b = append(b, fi.ModTime().UTC().Format(time.RFC3339Nano)...)
		b = append(b, 0)
		b = append(b, fileID(fi)...)
		b = append(b, 0)
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			b = append(b, "missing:"+p+"\x00"...)
			continue
		}
		if !fi.IsDir() {
			add(p, fi)
			continue
		}
		_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if fi, err := os.Stat(q); err == nil {
				add(q, fi)
			}
			return nil
		})
	}
	return fileState(b)
}

// poll calls check every interval until ctx is done.
func poll(ctx context.Context, interval time.Duration, check func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}
