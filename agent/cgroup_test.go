package agent

import "testing"

// Samples are paths as they appear in /proc/<pid>/cgroup (cgroup v2) on
// kubelet nodes, one per runtime and cgroup driver.
func TestParseCgroupPath(t *testing.T) {
	const uid = "0f2e5a64-3c1b-4d6e-9a8f-7b2c1d0e4f5a"
	const cid = "3d6f1c2b9e8a7f6d5c4b3a29180716253443526170899a8b7c6d5e4f3a2b1c0d"
	tests := []struct {
		name, path string
		want       Workload
	}{
		{"containerd systemd burstable",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f2e5a64_3c1b_4d6e_9a8f_7b2c1d0e4f5a.slice/cri-containerd-" + cid + ".scope",
			Workload{uid, cid, "containerd"}},
		{"containerd systemd besteffort",
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f2e5a64_3c1b_4d6e_9a8f_7b2c1d0e4f5a.slice/cri-containerd-" + cid + ".scope",
			Workload{uid, cid, "containerd"}},
		{"containerd systemd guaranteed",
			"/kubepods.slice/kubepods-pod0f2e5a64_3c1b_4d6e_9a8f_7b2c1d0e4f5a.slice/cri-containerd-" + cid + ".scope",
			Workload{uid, cid, "containerd"}},
		{"containerd cgroupfs burstable",
			"/kubepods/burstable/pod" + uid + "/" + cid,
			Workload{uid, cid, ""}},
		{"containerd cgroupfs guaranteed",
			"/kubepods/pod" + uid + "/" + cid,
			Workload{uid, cid, ""}},
		{"cri-o systemd",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f2e5a64_3c1b_4d6e_9a8f_7b2c1d0e4f5a.slice/crio-" + cid + ".scope",
			Workload{uid, cid, "cri-o"}},
		{"cri-o systemd conmon",
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f2e5a64_3c1b_4d6e_9a8f_7b2c1d0e4f5a.slice/crio-conmon-" + cid + ".scope",
			Workload{uid, cid, "cri-o"}},
		{"cri-o systemd container subcgroup",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f2e5a64_3c1b_4d6e_9a8f_7b2c1d0e4f5a.slice/crio-" + cid + ".scope/container",
			Workload{uid, cid, "cri-o"}},
		{"cri-o cgroupfs",
			"/kubepods/besteffort/pod" + uid + "/crio-" + cid,
			Workload{uid, cid, "cri-o"}},
		{"kind node nested in docker",
			"/system.slice/docker-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod0f2e5a64_3c1b_4d6e_9a8f_7b2c1d0e4f5a.slice/cri-containerd-" + cid + ".scope",
			Workload{uid, cid, "containerd"}},
		{"pod cgroup only (pause sandbox level)",
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f2e5a64_3c1b_4d6e_9a8f_7b2c1d0e4f5a.slice",
			Workload{PodUID: uid}},
		{"cgroup v1 hybrid prefix",
			"/sys/fs/cgroup/unified/kubepods/burstable/pod" + uid + "/" + cid,
			Workload{uid, cid, ""}},
		{"not a pod", "/system.slice/containerd.service", Workload{}},
		{"user session", "/user.slice/user-1000.slice/session-3.scope", Workload{}},
		{"root", "/", Workload{}},
		{"short uid rejected", "/kubepods/burstable/podabc/" + cid, Workload{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseCgroupPath(tt.path); got != tt.want {
				t.Errorf("ParseCgroupPath(%q)\n got  %+v\n want %+v", tt.path, got, tt.want)
			}
		})
	}
}
