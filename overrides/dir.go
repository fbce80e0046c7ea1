package overrides

import (
	"crypto/sha256"
	"fmt"
	"hash"
)

// Dir is a directory of Override documents that an enforcement point reads
// again and again (--overrides DIR, hot reload): Reload reads it into a Pool,
// under one origin, and tells whether its documents changed since the last
// read, so the pool re-verifies only when something did. A Dir is used by
// one goroutine at a time.
type Dir struct {
	Path   string
	digest [sha256.Size]byte
	read   bool
}

// NewDir returns the directory at path; nothing is read yet.
func NewDir(path string) *Dir { return &Dir{Path: path} }

// Origin is the directory's origin in a Pool.
func (d *Dir) Origin() string { return "dir:" + d.Path }

// Reload reads the directory (ReadDir) and, when its documents changed (or
// at the first read), replaces the directory's entries in p. A directory
// that cannot be read (removed, unmounted, no permission) is an error and
// fails closed: none of its documents stays in p, so none of its overrides
// counts until a read succeeds again and puts them back.
func (d *Dir) Reload(p *Pool) (bool, error) {
	entries, err := ReadDir(d.Path)
	if err != nil {
		if d.read {
			p.Replace(d.Origin(), nil)
			d.read = false
		}
		return false, err
	}
	sum := digestEntries(entries)
	if d.read && sum == d.digest {
		return false, nil
	}
	d.digest, d.read = sum, true
	p.Replace(d.Origin(), entries)
	return true, nil
}

// digestEntries hashes what a pool would verify: each entry's source and its
// document (canonical signing payload and signatures) or its error.
func digestEntries(entries []Entry) [sha256.Size]byte {
	h := sha256.New()
	field := func(h hash.Hash, s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	for _, e := range entries {
		field(h, e.Source)
		switch {
		case e.Doc != nil:
			data, err := e.Doc.Marshal()
			if err != nil {
				field(h, "unencodable: "+err.Error())
				continue
			}
			field(h, string(data))
		case e.Err != nil:
			field(h, "error: "+e.Err.Error())
		default:
			field(h, "empty")
		}
	}
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	return sum
}
