package agent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
	"unsafe"

	"github.com/cilium/ebpf/ringbuf"
)

// Event is one kernel decision, decoded from the ring buffer.
type Event struct {
	Kind     string // exec, connect, open
	Verdict  string // audit, monitor (a deny rule matched, reported only), denied, exempt (an override lets it run)
	Hook     string // the program that decided, e.g. tp_btf/sched_process_exec
	Rule     int    // 1-based index into the rules last given to SetRules
	KtimeNs  uint64
	CgroupID uint64
	PID      uint32
	PPID     uint32
	UID      uint32
	Comm     string
	Path     string         // exec: the binary; open: the file
	Args     []string       // exec: first arguments
	Write    bool           // open: write access asked
	Flags    uint32         // open: flags
	Dest     netip.AddrPort // connect
	Match    string         // listed (the path or destination), identity, fileless, not-allowed
	Ident    Ident          // exec: the executed file's identity
	Fileless bool           // exec: the file has no path on a filesystem
}

var matches = map[uint8]string{1: "listed", 2: "identity", 3: "fileless", 4: "not-allowed"}

var kinds = map[uint8]string{1: "exec", 2: "connect", 3: "open"}

var verdicts = map[uint8]string{1: "audit", 2: "monitor", 3: "denied", 4: VerdictExempt}

// VerdictExempt: a verified override exempts the pod from the rule, so the
// operation went on; it is reported (and audited with the override id).
const VerdictExempt = "exempt"

var hooks = map[uint8]string{
	1: "tp_btf/sched_process_exec",
	2: "cgroup/connect",
	3: "tracepoint/syscalls/sys_enter_openat",
	4: "lsm/bprm_check_security",
	5: "lsm/socket_connect",
	6: "lsm/file_open",
	7: "cgroup/sendmsg",
	8: "lsm/socket_sendmsg",
}

var ev charterEvent

// Offsets into the C struct event, taken from the generated Go twin.
var (
	offTs      = unsafe.Offsetof(ev.TsNs)
	offCgroup  = unsafe.Offsetof(ev.CgroupId)
	offPid     = unsafe.Offsetof(ev.Pid)
	offPpid    = unsafe.Offsetof(ev.Ppid)
	offUID     = unsafe.Offsetof(ev.Uid)
	offRule    = unsafe.Offsetof(ev.Rule)
	offKind    = unsafe.Offsetof(ev.Kind)
	offVerdict = unsafe.Offsetof(ev.Verdict)
	offHook    = unsafe.Offsetof(ev.Hook)
	offWrite   = unsafe.Offsetof(ev.Write)
	offFlags   = unsafe.Offsetof(ev.Flags)
	offPort    = unsafe.Offsetof(ev.Port)
	offAddr    = unsafe.Offsetof(ev.Addr)
	offComm    = unsafe.Offsetof(ev.Comm)
	offPath    = unsafe.Offsetof(ev.Path)
	offArgs    = unsafe.Offsetof(ev.Args)
	offIno     = unsafe.Offsetof(ev.Ino)
	offDev     = unsafe.Offsetof(ev.Dev)
	offMatch   = unsafe.Offsetof(ev.Match)
	offFless   = unsafe.Offsetof(ev.Fileless)
	eventSize  = int(unsafe.Sizeof(ev))
)

// DecodeEvent decodes one ring buffer record.
func DecodeEvent(b []byte) (Event, error) {
	if len(b) < eventSize {
		return Event{}, fmt.Errorf("decode event: %d bytes, want %d", len(b), eventSize)
	}
	le := binary.LittleEndian
	e := Event{
		Kind:     kinds[b[offKind]],
		Verdict:  verdicts[b[offVerdict]],
		Hook:     hooks[b[offHook]],
		Rule:     int(le.Uint32(b[offRule:])),
		KtimeNs:  le.Uint64(b[offTs:]),
		CgroupID: le.Uint64(b[offCgroup:]),
		PID:      le.Uint32(b[offPid:]),
		PPID:     le.Uint32(b[offPpid:]),
		UID:      le.Uint32(b[offUID:]),
		Comm:     cString(b[offComm : offComm+16]),
		Match:    matches[b[offMatch]],
	}
	switch e.Kind {
	case "exec":
		e.Path = cString(b[offPath : offPath+pathLen])
		e.Args = splitArgs(b[offArgs : offArgs+uintptr(len(ev.Args))])
		e.Ident = Ident{Dev: le.Uint32(b[offDev:]), Ino: le.Uint64(b[offIno:])}
		e.Fileless = b[offFless] != 0
	case "open":
		e.Path = cString(b[offPath : offPath+pathLen])
		e.Write = b[offWrite] != 0
		e.Flags = le.Uint32(b[offFlags:])
	case "connect":
		addr := netip.AddrFrom16([16]byte(b[offAddr : offAddr+16])).Unmap()
		e.Dest = netip.AddrPortFrom(addr, le.Uint16(b[offPort:]))
	default:
		return Event{}, fmt.Errorf("decode event: unknown kind %d", b[offKind])
	}
	return e, nil
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// splitArgs splits NUL-separated argv bytes; a cut-off last argument is kept.
func splitArgs(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	var out []string
	for _, a := range bytes.Split(b, []byte{0}) {
		out = append(out, string(a))
	}
	return out
}

// EventReader reads decoded events from the kernel's ring buffer.
type EventReader struct {
	rd  *ringbuf.Reader
	rec ringbuf.Record
}

// ErrClosed is returned by Read after the reader was closed.
var ErrClosed = errors.New("event reader closed")

// NewEventReader opens the ring buffer. Close it to unblock Read.
func (k *Kernel) NewEventReader() (*EventReader, error) {
	if k.maps.Events == nil {
		return nil, ErrKernelClosed
	}
	rd, err := ringbuf.NewReader(k.maps.Events)
	if err != nil {
		return nil, fmt.Errorf("open ring buffer: %w", err)
	}
	return &EventReader{rd: rd}, nil
}

// Read blocks for the next event.
func (r *EventReader) Read() (Event, error) {
	if err := r.rd.ReadInto(&r.rec); err != nil {
		if errors.Is(err, ringbuf.ErrClosed) {
			return Event{}, ErrClosed
		}
		return Event{}, fmt.Errorf("read ring buffer: %w", err)
	}
	return DecodeEvent(r.rec.RawSample)
}

// SetDeadline makes a blocked Read return os.ErrDeadlineExceeded after t.
func (r *EventReader) SetDeadline(t time.Time) { r.rd.SetDeadline(t) }

// Close unblocks Read and releases the ring buffer.
func (r *EventReader) Close() error { return r.rd.Close() }
