package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/internal/fingerprint"
)

// Kind is what a local path holds.
type Kind string

const (
	KindCharter    Kind = "charter"          // a charter file, or a directory of them
	KindBundleFile Kind = "bundle"           // a bundle .tar.gz
	KindBundleDir  Kind = "bundle directory" // a directory holding a .manifest
)

// Classify says what the path holds, the same way for every command: a
// directory with a .manifest is a bundle directory and any other directory a
// charter directory; a .yaml, .yml or .json file is a charter; any other file
// a bundle archive.
func Classify(path string) (Kind, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(path, ".manifest")); err == nil {
			return KindBundleDir, nil
		}
		return KindCharter, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return KindCharter, nil
	}
	return KindBundleFile, nil
}

// Local is a policy on the local file system. With Charters set every path
// is a charter file or directory; otherwise the one path is classified.
type Local struct {
	Paths    []string
	Charters bool

	mu       sync.Mutex
	included []string // the files the last charter load read: includes are watched too
}

func (l *Local) String() string { return strings.Join(l.Paths, ",") }

// Remote is false: a missing file is reported, not waited for.
func (l *Local) Remote() bool { return false }

// Fetch reads or compiles the policy when its files changed since since.
func (l *Local) Fetch(ctx context.Context, since string) (*Fetched, error) {
	kind := KindCharter
	if !l.Charters {
		if len(l.Paths) != 1 {
			return nil, fmt.Errorf("a bundle is one path, got %d", len(l.Paths))
		}
		k, err := Classify(l.Paths[0])
		if err != nil {
			return nil, l.failed(fingerprint.Files(l.Paths, bundlePart), since, err)
		}
		kind = k
	}
	if kind != KindCharter {
		p := l.Paths[0]
		fp := fingerprint.Files([]string{p}, bundlePart)
		if fp == since {
			return nil, ErrNotModified
		}
		files, _, err := bundles.ReadFiles(p)
		if err != nil {
			return nil, &FetchError{fp, invalidIfRead(err)}
		}
		return &Fetched{Files: files, Fingerprint: fp}, nil
	}
	fp := fingerprint.Files(l.watched(), charterPart)
	if fp == since {
		return nil, ErrNotModified
	}
	b, c, err := bundles.FromCharters(l.Paths)
	if err != nil {
		return nil, &FetchError{fp, invalidIfRead(err)}
	}
	l.mu.Lock()
	l.included = charterFiles(c)
	l.mu.Unlock()
	return &Fetched{Files: b.Files, Bundle: b, Charter: c, Fingerprint: fp}, nil
}

// failed reports err once per state of the files: unchanged, it is ErrNotModified.
func (l *Local) failed(fp, since string, err error) error {
	if fp == since {
		return ErrNotModified
	}
	return &FetchError{fp, err}
}

// watched lists the paths a charter source depends on.
func (l *Local) watched() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range l.Paths {
		add(p)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			// An include that did not load yet usually lives beside the charter.
			add(filepath.Dir(p))
		}
	}
	for _, p := range l.included {
		add(p)
	}
	return out
}

// charterFiles lists the files a loaded charter was read from: its own, and
// those of every charter it includes (through the positions of their articles
// and the includes of the top charter).
func charterFiles(c *charter.Charter) []string {
	seen := map[string]bool{}
	add := func(p string) {
		if p != "" {
			seen[p] = true
		}
	}
	add(c.Pos.File)
	for _, a := range c.Spec.Articles {
		add(a.Pos.File)
	}
	for _, inc := range c.Spec.Include {
		if inc.Path == "" {
			continue
		}
		p := inc.Path
		if !filepath.IsAbs(p) && c.Pos.File != "" {
			p = filepath.Join(filepath.Dir(c.Pos.File), p)
		}
		add(p)
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// invalidIfRead marks err as an invalid bundle or charter (ReasonInvalid)
// unless a file could not be read at all, which stays a failed fetch.
func invalidIfRead(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return &Rejection{ReasonInvalid, err}
}
