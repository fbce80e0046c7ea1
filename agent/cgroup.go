package agent

import (
	"regexp"
	"strings"
)

// Workload names the Kubernetes workload a cgroup belongs to. Fields are
// empty when the path does not follow a kubelet layout.
type Workload struct {
	PodUID      string `json:"podUID,omitempty"`
	ContainerID string `json:"containerID,omitempty"`
	Runtime     string `json:"runtime,omitempty"` // containerd, cri-o, docker
}

var (
	// kubepods-burstable-pod1234_5678.slice, kubepods-pod1234.slice (systemd driver),
	// kubelet-kubepods-...-pod1234.slice with a --cgroup-root (kind)
	systemdPod = regexp.MustCompile(`^(?:[a-z0-9]+-)*kubepods(?:-[a-z]+)*-pod([0-9a-f_]{32,36})\.slice$`)
	// pod12345678-1234-... (cgroupfs driver)
	cgroupfsPod = regexp.MustCompile(`^pod([0-9a-f-]{32,36})$`)
	// cri-containerd-<id>.scope, crio-<id>.scope, crio-conmon-<id>.scope, docker-<id>.scope,
	// or, with the cgroupfs driver, <id> or crio-<id>.
	containerScope = regexp.MustCompile(`^(cri-containerd|crio|crio-conmon|docker)?-?([0-9a-f]{64})(?:\.scope)?$`)
)

// ParseCgroupPath finds the pod UID and container id in a cgroup path written
// by the kubelet, for the systemd and cgroupfs cgroup drivers of containerd
// and CRI-O. It takes the last pod segment, so nested layouts (kind, a node
// inside a container) resolve to the innermost pod.
func ParseCgroupPath(p string) Workload {
	var w Workload
	segs := strings.Split(strings.Trim(p, "/"), "/")
	pod := -1
	for i, s := range segs {
		if m := systemdPod.FindStringSubmatch(s); m != nil {
			w = Workload{PodUID: strings.ReplaceAll(m[1], "_", "-")}
			pod = i
		} else if m := cgroupfsPod.FindStringSubmatch(s); m != nil {
			w = Workload{PodUID: m[1]}
			pod = i
		}
	}
	if pod < 0 {
		return Workload{}
	}
	for _, s := range segs[pod+1:] {
		m := containerScope.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		w.ContainerID = m[2]
		switch m[1] {
		case "cri-containerd":
			w.Runtime = "containerd"
		case "crio", "crio-conmon":
			w.Runtime = "cri-o"
		case "docker":
			w.Runtime = "docker"
		}
		break
	}
	if len(strings.ReplaceAll(w.PodUID, "-", "")) != 32 {
		return Workload{}
	}
	return w
}
