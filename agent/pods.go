package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultPodLogDir is where the kubelet keeps one directory per pod on its
// node, named NAMESPACE_NAME_UID.
const DefaultPodLogDir = "/var/log/pods"

// PodDirectory names the pods running on this node by UID.
type PodDirectory interface {
	Pods() (map[string]PodInfo, error)
}

// KubeletPodLogs reads pod names from the kubelet's pod log directories
// (/var/log/pods/NAMESPACE_NAME_UID), which it makes for every pod it
// runs. Only the kubelet (root on the node) writes there. Labels are not
// recorded there, so they are unknown (nil).
type KubeletPodLogs struct{ Dir string }

// Pods lists the pod directories. A missing directory is no pods (a node
// without pods yet, or a test without a kubelet).
func (k KubeletPodLogs) Pods() (map[string]PodInfo, error) {
	entries, err := os.ReadDir(k.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]PodInfo{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pod directory: %w", err)
	}
	out := make(map[string]PodInfo, len(entries))
	for _, e := range entries {
		if p, ok := ParsePodLogDir(e.Name()); ok && e.IsDir() {
			out[p.UID] = p
		}
	}
	return out, nil
}

// ParsePodLogDir reads NAMESPACE_NAME_UID. Namespaces and pod names are DNS
// names and UIDs are hex and dashes, so none holds an underscore.
func ParsePodLogDir(name string) (PodInfo, bool) {
	parts := strings.Split(name, "_")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || len(strings.ReplaceAll(parts[2], "-", "")) != 32 {
		return PodInfo{}, false
	}
	return PodInfo{Namespace: parts[0], Name: parts[1], UID: parts[2]}, true
}

// maxPodDepth bounds the walk from a scoped cgroup down to pod cgroups:
// kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUID.slice
// is three levels below the cgroup v2 root.
const maxPodDepth = 4

// FindPodCgroups walks the scoped cgroup directories for pod-level cgroups
// of a kubelet layout (ParseCgroupPath finds a pod UID and no container)
// and names their pods through dir; a pod the directory does not know is
// left out (no override can name it).
func FindPodCgroups(scoped []string, dir PodDirectory) ([]PodCgroup, error) {
	pods, err := dir.Pods()
	if err != nil {
		return nil, err
	}
	var out []PodCgroup
	seen := map[string]bool{}
	var walk func(p string, depth int)
	walk = func(p string, depth int) {
		if seen[p] {
			return
		}
		seen[p] = true
		if w := ParseCgroupPath(p); w.PodUID != "" && w.ContainerID == "" {
			if info, ok := pods[w.PodUID]; ok {
				if id, err := CgroupID(p); err == nil {
					out = append(out, PodCgroup{ID: id, Path: p, Pod: info})
				}
			}
			return // containers below a pod are covered through it
		}
		if depth == maxPodDepth {
			return
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return // a cgroup that went away meanwhile
		}
		for _, e := range entries {
			if e.IsDir() {
				walk(filepath.Join(p, e.Name()), depth+1)
			}
		}
	}
	for _, s := range scoped {
		walk(s, 0)
	}
	return out, nil
}
