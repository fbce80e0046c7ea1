package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Ident is a file's identity as the kernel programs read it from the
// executed file: the inode number and its superblock's device, in the
// kernel's encoding (major << 20 | minor).
type Ident struct {
	Dev uint32
	Ino uint64
}

func (id Ident) String() string {
	return fmt.Sprintf("%d:%d/%d", id.Dev>>20, id.Dev&(1<<20-1), id.Ino)
}

// Root is a view of the file system in which rule paths are resolved to
// identities: the agent's own root, or a container's, reached through
// /proc/PID/root of a process inside it.
type Root struct {
	Dir   string // "/" or "/proc/PID/root"
	MntNS uint32 // inode number of its mount namespace
}

// OwnRoot is the agent's own root and mount namespace.
func OwnRoot() (Root, error) {
	ns, err := mntNS("self")
	if err != nil {
		return Root{}, err
	}
	return Root{Dir: "/", MntNS: ns}, nil
}

func mntNS(pid string) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/"+pid+"/ns/mnt", &st); err != nil {
		return 0, fmt.Errorf("mount namespace of %s: %w", pid, err)
	}
	return uint32(st.Ino), nil
}

// ScopeRoots finds one process per mount namespace in the cgroup trees
// under dirs and returns their roots, so that rule paths are resolved as
// each container sees them. Namespaces in skip (the agent's own) are left
// out. Processes that exit while being looked at are skipped.
func ScopeRoots(dirs []string, skip ...uint32) []Root {
	seen := map[uint32]bool{}
	for _, ns := range skip {
		seen[ns] = true
	}
	var out []Root
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(filepath.Join(p, "cgroup.procs"))
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(b)) {
				if _, err := strconv.Atoi(f); err != nil {
					continue
				}
				ns, err := mntNS(f)
				if err != nil || seen[ns] {
					continue
				}
				seen[ns] = true
				out = append(out, Root{Dir: "/proc/" + f + "/root", MntNS: ns})
			}
			return nil
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MntNS < out[j].MntNS })
	return out
}

// errNotFile: the path names a directory or a device, not an executable file.
var errNotFile = errors.New("not a regular file")

// Resolve returns the identity of the regular file p as seen from root.
// Symlinks, absolute ones included, are followed inside the root
// (openat2 RESOLVE_IN_ROOT), never out of a container into the host.
func (r Root) Resolve(p string) (Ident, error) {
	dir, err := unix.Open(r.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Ident{}, fmt.Errorf("open root %s: %w", r.Dir, err)
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, strings.TrimPrefix(p, "/"), &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return Ident{}, fmt.Errorf("resolve %s in %s: %w", p, r.Dir, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Ident{}, fmt.Errorf("stat %s in %s: %w", p, r.Dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return Ident{}, fmt.Errorf("%s in %s: %w", p, r.Dir, errNotFile)
	}
	return Ident{Dev: unix.Major(st.Dev)<<20 | unix.Minor(st.Dev), Ino: st.Ino}, nil
}
