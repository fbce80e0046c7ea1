package agent

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// CgroupV2Mount finds where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup
// on unified hosts, /sys/fs/cgroup/unified on hybrid ones.
func CgroupV2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find cgroup v2 mount: %w", err)
	}
	defer f.Close()
	return parseCgroupV2Mount(f)
}

// parseCgroupV2Mount reads mountinfo lines and returns the first cgroup2 mount point.
func parseCgroupV2Mount(r io.Reader) (string, error) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		// 35 24 0:30 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw
		pre, post, ok := strings.Cut(s.Text(), " - ")
		if !ok {
			continue
		}
		fields, fs := strings.Fields(pre), strings.Fields(post)
		if len(fields) >= 5 && len(fs) >= 1 && fs[0] == "cgroup2" {
			return unescapeMountinfo(fields[4]), nil
		}
	}
	if err := s.Err(); err != nil {
		return "", fmt.Errorf("find cgroup v2 mount: %w", err)
	}
	return "", fmt.Errorf("find cgroup v2 mount: no cgroup2 file system is mounted")
}

func unescapeMountinfo(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// CgroupID is the id the kernel gives a cgroup v2 directory: its inode number.
func CgroupID(dir string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, fmt.Errorf("cgroup id of %s: %w", dir, err)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, fmt.Errorf("cgroup id of %s: %w", dir, err)
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return 0, fmt.Errorf("cgroup id of %s: not a cgroup v2 directory", dir)
	}
	return st.Ino, nil
}

// CgroupResolver maps cgroup ids from events back to paths below the cgroup
// v2 mount, with a cache (ids are never reused while the cgroup lives).
type CgroupResolver struct {
	mount string
	mu    sync.Mutex
	cache map[uint64]string
}

// NewCgroupResolver resolves ids below the cgroup v2 mount point.
func NewCgroupResolver(mount string) *CgroupResolver {
	return &CgroupResolver{mount: mount, cache: map[uint64]string{}}
}

const fileidKernfs = 0xfe // FILEID_KERNFS: a kernfs node id as file handle

// Path returns the cgroup's path relative to the mount, like /kubepods/... .
// It opens the cgroup by handle (needs CAP_DAC_READ_SEARCH), so it works
// after the process that caused the event is gone.
func (r *CgroupResolver) Path(id uint64) (string, error) {
	r.mu.Lock()
	p, ok := r.cache[id]
	r.mu.Unlock()
	if ok {
		return p, nil
	}
	mfd, err := unix.Open(r.mount, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("open cgroup mount: %w", err)
	}
	defer unix.Close(mfd)
	var h [8]byte
	binary.LittleEndian.PutUint64(h[:], id)
	fd, err := unix.OpenByHandleAt(mfd, unix.NewFileHandle(fileidKernfs, h[:]), unix.O_RDONLY|unix.O_PATH|unix.O_CLOEXEC)
	if err != nil {
		return "", fmt.Errorf("open cgroup %d by handle: %w", id, err)
	}
	defer unix.Close(fd)
	full, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return "", fmt.Errorf("resolve cgroup %d: %w", id, err)
	}
	rel, err := filepath.Rel(r.mount, full)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = full
	}
	p = "/" + strings.TrimPrefix(rel, ".")
	p = filepath.Clean(p)
	r.mu.Lock()
	if len(r.cache) > 65536 {
		clear(r.cache)
	}
	r.cache[id] = p
	r.mu.Unlock()
	return p, nil
}

// EnsureTracefs mounts tracefs at /sys/kernel/tracing unless a tracefs is
// already reachable there or under debugfs: attaching a tracepoint needs its id.
func EnsureTracefs() error {
	for _, p := range []string{"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"} {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
	}
	if err := unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil {
		return fmt.Errorf("mount tracefs on /sys/kernel/tracing: %w", err)
	}
	return nil
}

func splitComma(s string) []string {
	return strings.Split(strings.TrimSpace(s), ",")
}
