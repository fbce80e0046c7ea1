package agent

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"
)

func encode(t *testing.T, e charterEvent) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, e); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func cstr(s string, n int) []int8 {
	out := make([]int8, n)
	for i := range min(len(s), n-1) {
		out[i] = int8(s[i])
	}
	return out
}

func TestDecodeEvent(t *testing.T) {
	var args [128]int8
	copy(args[:], []int8{'s', 'h', 0, '-', 'c', 0})
	exec := charterEvent{TsNs: 7, CgroupId: 42, Pid: 100, Ppid: 1, Uid: 1000, Rule: 2, Kind: 1, Verdict: 3, Hook: 1,
		Comm: [16]int8(cstr("sh", 16)), Path: [256]int8(cstr("/bin/sh", 256)), Args: args}
	got, err := DecodeEvent(encode(t, exec))
	if err != nil {
		t.Fatal(err)
	}
	want := Event{Kind: "exec", Verdict: "denied", Hook: "tp_btf/sched_process_exec", Rule: 2, KtimeNs: 7, CgroupID: 42,
		PID: 100, PPID: 1, UID: 1000, Comm: "sh", Path: "/bin/sh", Args: []string{"sh", "-c"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("exec:\n got  %+v\n want %+v", got, want)
	}

	conn := charterEvent{Kind: 2, Verdict: 2, Hook: 2, Port: 80, Addr: netip.MustParseAddr("::ffff:169.254.169.254").As16()}
	got, err = DecodeEvent(encode(t, conn))
	if err != nil {
		t.Fatal(err)
	}
	if got.Dest.String() != "169.254.169.254:80" || got.Verdict != "monitor" {
		t.Errorf("connect: %+v", got)
	}

	open := charterEvent{Kind: 3, Verdict: 1, Hook: 3, Write: 1, Flags: 0o101, Path: [256]int8(cstr("/etc/passwd", 256))}
	got, err = DecodeEvent(encode(t, open))
	if err != nil {
		t.Fatal(err)
	}
	if got.Path != "/etc/passwd" || !got.Write || got.Flags != 0o101 || got.Verdict != "audit" {
		t.Errorf("open: %+v", got)
	}

	if _, err := DecodeEvent(make([]byte, 10)); err == nil {
		t.Error("short record accepted")
	}
	if _, err := DecodeEvent(encode(t, charterEvent{Kind: 9})); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestParseCgroupV2Mount(t *testing.T) {
	hybrid := `24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
33 24 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
34 33 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
35 33 0:30 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
`
	unified := `30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`
	pod := `1210 1200 0:26 / /host/sys/fs/cgroup\040x ro,relatime - cgroup2 cgroup2 rw
`
	for _, tt := range []struct{ name, in, want string }{
		{"hybrid", hybrid, "/sys/fs/cgroup/unified"},
		{"unified", unified, "/sys/fs/cgroup"},
		{"escaped", pod, "/host/sys/fs/cgroup x"},
	} {
		got, err := parseCgroupV2Mount(bytes.NewBufferString(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := parseCgroupV2Mount(bytes.NewBufferString("35 33 0:30 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n")); err == nil {
		t.Error("v1 only: no error")
	}
}
