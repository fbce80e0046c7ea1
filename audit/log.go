package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Options configure a Log.
type Options struct {
	// Sync makes Append return only once the record is on disk (fsync, in
	// groups). Without it Append returns once the record is written to the
	// file (it survives a crash of the process, not of the machine) and the
	// files are synced at each checkpoint.
	Sync bool
	// Signer signs checkpoints; nil writes them unsigned (the tree still
	// detects edits, but anyone can forge a checkpoint).
	Signer note.Signer
	// A checkpoint is written after CheckpointEvery records (1000 when
	// zero) or CheckpointInterval (10 s when zero), whichever comes first,
	// and on Close.
	CheckpointEvery    int64
	CheckpointInterval time.Duration
	// MinSyncInterval, with Sync, is the least time between the starts of
	// two group commits' fsyncs (0: none). A group that would start sooner
	// waits for the rest of the interval and takes every record that comes
	// meanwhile, so fast, frequent fsyncs are traded for bigger groups: each
	// fsync costs CPU (0.25 to 0.45 ms on a virtual disk), and a record pays
	// its share. It adds at most the interval to a record's latency, and
	// nothing when fsyncs are rarer than the interval. The command-line
	// default is DefaultMinSyncInterval.
	MinSyncInterval time.Duration
	// MaxSize rotates the active file once it reaches this many bytes
	// (0: never). The tree spans every file.
	MaxSize int64
}

// DefaultMinSyncInterval is --audit-sync-interval's default: about two
// flushes of a virtual disk (1 to 1.4 ms each on the development VM), so a
// busy log fsyncs at most 500 times a second and a quiet one never waits.
// An interval shorter than one fsync does nothing: the next group forms
// during the fsync in progress anyway.
const DefaultMinSyncInterval = 2 * time.Millisecond

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit log is closed")

// Recovery says what Open had to repair after an unclean stop.
type Recovery struct {
	// TornOffset and TornBytes locate an incomplete last record that was
	// cut off the active file (and saved to LOG.torn); TornBytes is 0 when
	// there was none.
	TornOffset int64
	TornBytes  int
	// Rehashed is the number of records after the last checkpoint whose
	// tree hashes were recomputed from the records.
	Rehashed int64
}

func (r Recovery) String() string {
	if r.TornBytes == 0 && r.Rehashed == 0 {
		return "clean"
	}
	return fmt.Sprintf("cut a torn record of %d bytes at offset %d; hashed %d records", r.TornBytes, r.TornOffset, r.Rehashed)
}

// Log is an append-only, tamper-evident decision log: JSON lines, an RFC 6962
// Merkle tree over them (golang.org/x/mod/sumdb/tlog), and checkpoints
// signed in note format. One goroutine writes; Append from any number of
// goroutines joins the next group commit.
type Log struct {
	path string
	opts Options

	f, hf, cf *os.File
	base      int64 // number of the active file's first record
	n         int64 // records in the tree
	size      int64 // bytes in the active file
	hashes    int64 // stored hashes in hf
	pending   []tlog.Hash
	// frontier holds the last stored hash written at each level: the only
	// old hashes an append reads, kept so it reads none from the file.
	frontier [64]storedHash

	// lastCP is the size of the last durable checkpoint; cpIssued, of the
	// last one taken (owned by the writer goroutine) and queued on cpJobs
	// for the checkpointer goroutine.
	lastCP   atomic.Int64
	cpIssued int64
	cpJobs   chan checkpointJob
	cpDone   chan struct{}

	// Counters for Stats.
	records, commits, syncs, syncNanos atomic.Int64
	// beforeSync, when set (by tests), runs before every fsync.
	beforeSync func()

	lastSync time.Time // when the last group commit's fsync started

	recovery Recovery
	count    atomic.Int64 // n, for readers outside the writer goroutine

	mu     sync.RWMutex
	closed bool
	reqs   chan request
	quit   chan struct{}
	done   chan struct{}

	errMu sync.Mutex
	err   error // the first write or fsync error: fatal, never retried
}

type request struct {
	line []byte
	done chan error
}

// Open opens (or creates) the log at path, repairing what a crash left: a
// torn last record is cut off, missing tree hashes are added. A log that
// lost records behind its stored tree or its last checkpoint does not open.
func Open(path string, o Options) (*Log, error) {
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 1000
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 10 * time.Second
	}
	l := &Log{path: path, opts: o, reqs: make(chan request, maxBatch), cpJobs: make(chan checkpointJob, 16), cpDone: make(chan struct{}), quit: make(chan struct{}), done: make(chan struct{})}
	if err := l.open(); err != nil {
		l.closeFiles()
		return nil, err
	}
	go l.checkpointer()
	go l.run()
	return l, nil
}

// Recovered says what Open repaired.
func (l *Log) Recovered() Recovery { return l.recovery }

// Stats counts what the log did since Open.
type Stats struct {
	// Records appended and group commits that wrote them (one write(2)
	// each, and with Sync one fsync each).
	Records, Commits int64
	// Syncs is every fsync of the log's files: one per commit with Sync,
	// two or three per checkpoint, and those of a repair at Open; SyncTime
	// is the time spent in them.
	Syncs    int64
	SyncTime time.Duration
}

// Stats returns the log's counters.
func (l *Log) Stats() Stats {
	return Stats{Records: l.records.Load(), Commits: l.commits.Load(), Syncs: l.syncs.Load(),
		SyncTime: time.Duration(l.syncNanos.Load())}
}

// Size is the number of records in the log.
func (l *Log) Size() int64 {
	return l.count.Load()
}

func openFile(path string, flag int) (f *os.File, created bool, err error) {
	f, err = os.OpenFile(path, flag|os.O_RDWR, FileMode)
	if err == nil {
		return f, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	f, err = os.OpenFile(path, flag|os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return nil, false, err
	}
	return f, true, nil
}

func (l *Log) open() error {
	segs, err := segments(l.path)
	if err != nil {
		return err
	}
	active := segs[len(segs)-1]
	l.base = active.first
	var created [3]bool
	if l.f, created[0], err = openFile(l.path, os.O_APPEND); err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	if l.hf, created[1], err = openFile(hashesPath(l.path), os.O_APPEND); err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	if l.cf, created[2], err = openFile(checkpointsPath(l.path), os.O_APPEND); err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	if created[0] || created[1] || created[2] {
		if err := syncDir(filepath.Dir(l.path)); err != nil {
			return fmt.Errorf("sync log directory: %w", err)
		}
	}
	offsets, err := l.cutTorn()
	if err != nil {
		return err
	}
	l.n = l.base + int64(len(offsets))
	last, err := lastCheckpoint(l.cf, true)
	if err != nil {
		return fmt.Errorf("audit log checkpoints: %w", err)
	}
	if last != nil && last.Size > l.n {
		return &Failure{Record: l.n, File: l.path, Line: l.n - l.base + 1, Offset: l.size,
			Reason: fmt.Sprintf("log truncated: the last checkpoint covers %d records, the log has %d", last.Size, l.n)}
	}
	if last != nil {
		l.lastCP.Store(last.Size)
		l.cpIssued = last.Size
	}
	if err := l.repairHashes(offsets); err != nil {
		return err
	}
	l.count.Store(l.n)
	return nil
}

// cutTorn reads the active file, cuts an incomplete last record (saving it
// to LOG.torn) and returns the offset of every record.
func (l *Log) cutTorn() ([]int64, error) {
	if _, err := l.f.Seek(0, 0); err != nil {
		return nil, err
	}
	lr := newLineReader(l.f)
	var offsets []int64
	for {
		ln, ok, err := lr.Next()
		if err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		if !ok {
			break
		}
		offsets = append(offsets, ln.offset)
	}
	l.size = lr.offset
	if len(lr.Torn) == 0 {
		return offsets, nil
	}
	if err := saveTorn(tornPath(l.path), l.size, lr.Torn); err != nil {
		return nil, err
	}
	if err := l.f.Truncate(l.size); err != nil {
		return nil, fmt.Errorf("cut torn record: %w", err)
	}
	if err := l.sync(l.f); err != nil {
		return nil, fmt.Errorf("cut torn record: %w", err)
	}
	l.recovery.TornOffset, l.recovery.TornBytes = l.size, len(lr.Torn)
	return offsets, nil
}

func saveTorn(path string, offset int64, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, FileMode)
	if err != nil {
		return fmt.Errorf("save torn record: %w", err)
	}
	rec, _ := json.Marshal(struct {
		Offset int64  `json:"offset"`
		Bytes  []byte `json:"bytes"`
	}{offset, b})
	_, err = f.Write(append(rec, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save torn record: %w", err)
	}
	return nil
}

// recordsCovered is the number of records whose hashes fit in count stored
// hashes.
func recordsCovered(count int64) int64 {
	lo, hi := int64(0), count // StoredHashCount(n) >= n
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if tlog.StoredHashCount(mid) <= count {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

func (l *Log) repairHashes(offsets []int64) error {
	fi, err := l.hf.Stat()
	if err != nil {
		return err
	}
	covered := recordsCovered(fi.Size() / tlog.HashSize)
	if covered > l.n {
		return &Failure{Record: l.n, File: l.path, Line: l.n - l.base + 1, Offset: l.size,
			Reason: fmt.Sprintf("records missing: the stored tree has %d records, the log %d", covered, l.n)}
	}
	if covered < l.base {
		return fmt.Errorf("audit log: records %d to %d are in rotated files but not in %s", covered, l.base-1, hashesPath(l.path))
	}
	// Hashes after the last checkpoint were written without an fsync of
	// their own: recompute them from the records.
	keep := covered
	if lastCP := l.lastCP.Load(); keep > lastCP {
		keep = max(lastCP, l.base)
	}
	l.hashes = tlog.StoredHashCount(keep)
	if fi.Size() != l.hashes*tlog.HashSize {
		if err := l.hf.Truncate(l.hashes * tlog.HashSize); err != nil {
			return fmt.Errorf("cut stored hashes: %w", err)
		}
	}
	if keep == l.n {
		return nil
	}
	for n := keep; n < l.n; n++ {
		i := n - l.base
		end := l.size
		if i+1 < int64(len(offsets)) {
			end = offsets[i+1]
		}
		buf := make([]byte, end-offsets[i]-1)
		if _, err := l.f.ReadAt(buf, offsets[i]); err != nil {
			return fmt.Errorf("read audit log: %w", err)
		}
		if err := l.hashRecord(n, buf); err != nil {
			return err
		}
	}
	l.recovery.Rehashed = l.n - keep
	if err := l.flushHashes(); err != nil {
		return err
	}
	return l.sync(l.hf)
}

type storedHash struct {
	next int64 // the stored hash's index + 1; 0 for none
	hash tlog.Hash
}

// readHashes reads stored hashes from pending (not yet written), the
// frontier, or the file.
func (l *Log) readHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
next:
	for i, x := range indexes {
		for _, f := range l.frontier {
			if f.next == x+1 {
				out[i] = f.hash
				continue next
			}
		}
		if x >= l.hashes {
			j := x - l.hashes
			if j >= int64(len(l.pending)) {
				return nil, fmt.Errorf("stored hash %d not written yet", x)
			}
			out[i] = l.pending[j]
			continue
		}
		if _, err := l.hf.ReadAt(out[i][:], x*tlog.HashSize); err != nil {
			return nil, fmt.Errorf("read stored hash %d: %w", x, err)
		}
	}
	return out, nil
}

func (l *Log) hashRecord(n int64, data []byte) error {
	hs, err := tlog.StoredHashes(n, data, tlog.HashReaderFunc(l.readHashes))
	if err != nil {
		return err
	}
	base := tlog.StoredHashIndex(0, n)
	for level, h := range hs {
		l.frontier[level] = storedHash{next: base + int64(level) + 1, hash: h}
	}
	l.pending = append(l.pending, hs...)
	return nil
}

func (l *Log) flushHashes() error {
	if len(l.pending) == 0 {
		return nil
	}
	buf := make([]byte, 0, len(l.pending)*tlog.HashSize)
	for _, h := range l.pending {
		buf = append(buf, h[:]...)
	}
	if _, err := l.hf.Write(buf); err != nil {
		return fmt.Errorf("write stored hashes: %w", err)
	}
	l.hashes += int64(len(l.pending))
	l.pending = l.pending[:0]
	return nil
}
