package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// maxBatch bounds one group commit.
const maxBatch = 4096

// Append adds e to the log and returns once it is written (with Sync, once
// it is on disk). After a write or fsync error every Append fails with
// that error: a failed fsync may have dropped data, so it is never retried.
func (l *Log) Append(ctx context.Context, e Entry) error {
	data, err := encode(e)
	if err != nil {
		return fmt.Errorf("encode audit record: %w", err)
	}
	return l.AppendLine(ctx, data)
}

// AppendLine adds one JSON value, encoded on a single line.
func (l *Log) AppendLine(ctx context.Context, data []byte) error {
	if !json.Valid(data) || containsNewline(data) {
		return fmt.Errorf("audit record is not one line of JSON")
	}
	r := request{line: data, done: make(chan error, 1)}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	if err := l.Err(); err != nil {
		l.mu.RUnlock()
		return err
	}
	l.reqs <- r
	l.mu.RUnlock()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("audit record not confirmed: %w", ctx.Err())
	}
}

func containsNewline(b []byte) bool {
	for _, c := range b {
		if c == '\n' {
			return true
		}
	}
	return false
}

// Err is the fatal error that stopped the log, if any.
func (l *Log) Err() error {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.err
}

func (l *Log) fail(err error) error {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	if l.err == nil {
		l.err = fmt.Errorf("audit log %s failed, no more records are accepted: %w", l.path, err)
	}
	return l.err
}

// run is the single writer, the leader of every group commit: it takes every
// record queued since its last fsync, writes them in one write(2), fsyncs
// once (with Sync) and answers them all. Records that arrive during the fsync
// wait in the queue and form the next group, so one fsync carries every
// request in flight and none waits for a timer.
func (l *Log) run() {
	defer close(l.done)
	tick := time.NewTicker(l.opts.CheckpointInterval)
	defer tick.Stop()
	batch := make([]request, 0, maxBatch)
	for {
		select {
		case r := <-l.reqs:
			batch = append(batch[:0], r)
		drain:
			for len(batch) < maxBatch {
				select {
				case r := <-l.reqs:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			batch = l.gather(batch)
			l.commit(batch)
		case <-tick.C:
			if l.Err() == nil && l.n > l.cpIssued {
				l.startCheckpoint(nil)
			}
		case <-l.quit:
			for {
				select {
				case r := <-l.reqs:
					l.commit([]request{r})
					continue
				default:
				}
				return
			}
		}
	}
}

// gather holds a group whose fsync would start less than MinSyncInterval
// after the last one until the interval is over, adding every record that
// arrives meanwhile.
func (l *Log) gather(batch []request) []request {
	if !l.opts.Sync || l.opts.MinSyncInterval <= 0 {
		return batch
	}
	wait := time.Until(l.lastSync.Add(l.opts.MinSyncInterval))
	if wait <= 0 {
		return batch
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for len(batch) < maxBatch {
		select {
		case r := <-l.reqs:
			batch = append(batch, r)
		case <-t.C:
			return batch
		}
	}
	return batch
}

func (l *Log) commit(batch []request) {
	err := l.Err()
	if err == nil {
		if err = l.write(batch); err != nil {
			err = l.fail(err)
		}
	}
	for _, r := range batch {
		r.done <- err
	}
	if err != nil {
		return
	}
	if l.n-l.cpIssued >= l.opts.CheckpointEvery {
		l.startCheckpoint(nil)
	}
	if l.opts.MaxSize > 0 && l.size >= l.opts.MaxSize {
		if err := l.rotate(); err != nil {
			l.fail(err)
		}
	}
}

func (l *Log) write(batch []request) error {
	size := 0
	for _, r := range batch {
		size += len(r.line) + 1
	}
	buf := make([]byte, 0, size)
	for _, r := range batch {
		buf = append(append(buf, r.line...), '\n')
	}
	if _, err := l.f.Write(buf); err != nil {
		return fmt.Errorf("write records: %w", err)
	}
	if l.opts.Sync {
		l.lastSync = time.Now()
		if err := l.sync(l.f); err != nil {
			return fmt.Errorf("fsync records: %w", err)
		}
	}
	// The hashes are written after the records are durable, so the stored
	// tree never covers a record a power loss could take back.
	for i, r := range batch {
		if err := l.hashRecord(l.n+int64(i), r.line); err != nil {
			return err
		}
	}
	// The stored hashes are derived from the records: Open recomputes
	// every one after the last checkpoint, so they need no fsync of their
	// own until the next checkpoint.
	if err := l.flushHashes(); err != nil {
		return err
	}
	l.n += int64(len(batch))
	l.count.Store(l.n)
	l.size += int64(size)
	l.records.Add(int64(len(batch)))
	l.commits.Add(1)
	return nil
}

// sync is every fsync of a log file: counted, and never retried by callers
// (an error is fatal).
func (l *Log) sync(f *os.File) error {
	l.syncs.Add(1)
	if l.beforeSync != nil {
		l.beforeSync()
	}
	start := time.Now()
	err := f.Sync()
	l.syncNanos.Add(int64(time.Since(start)))
	return err
}

// checkpointJob is a checkpoint taken by the writer (size and root hash)
// and made durable and signed by the checkpointer goroutine, so the fsyncs
// and the signature do not stall appends.
type checkpointJob struct {
	size int64
	hash tlog.Hash
	// f is the records file to fsync first; nil when every record it
	// covers was already fsynced by its group commit (Sync).
	f, hf *os.File
	// done, when set, receives the job's error.
	done chan error
}

// startCheckpoint takes a checkpoint of the current tree (on the writer
// goroutine, which owns the in-memory tree) and queues it for the
// checkpointer. Checkpoints are written in the order they are taken.
func (l *Log) startCheckpoint(done chan error) {
	th, err := tlog.TreeHash(l.n, tlog.HashReaderFunc(l.readHashes))
	if err != nil {
		err = l.fail(fmt.Errorf("tree hash: %w", err))
		if done != nil {
			done <- err
		}
		return
	}
	j := checkpointJob{size: l.n, hash: th, hf: l.hf, done: done}
	if !l.opts.Sync {
		j.f = l.f
	}
	l.cpIssued = l.n
	l.cpJobs <- j
}

// checkpoint writes a checkpoint of the current tree and waits until it and
// every one queued before it are durable.
func (l *Log) checkpoint() error {
	done := make(chan error, 1)
	l.startCheckpoint(done)
	return <-done
}

// checkpointer writes the checkpoints the writer takes, one at a time.
func (l *Log) checkpointer() {
	defer close(l.cpDone)
	for j := range l.cpJobs {
		err := l.Err()
		if err == nil {
			if err = l.writeCheckpoint(j); err != nil {
				err = l.fail(err)
			}
		}
		if j.done != nil {
			j.done <- err
		}
	}
}

// writeCheckpoint makes the records and stored hashes up to j.size durable,
// then signs j and appends it to the checkpoints file.
func (l *Log) writeCheckpoint(j checkpointJob) error {
	if j.f != nil {
		if err := l.sync(j.f); err != nil {
			return fmt.Errorf("fsync records: %w", err)
		}
	}
	if err := l.sync(j.hf); err != nil {
		return fmt.Errorf("fsync stored hashes: %w", err)
	}
	msg, err := SignCheckpoint(Checkpoint{Size: j.size, Hash: j.hash, Time: time.Now().UTC()}, l.opts.Signer)
	if err != nil {
		return fmt.Errorf("sign checkpoint: %w", err)
	}
	line, _ := json.Marshal(checkpointLine{Note: string(msg)})
	if _, err := l.cf.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := l.sync(l.cf); err != nil {
		return fmt.Errorf("fsync checkpoints: %w", err)
	}
	l.lastCP.Store(j.size)
	return nil
}

// rotate closes the active file under the name of its record range and
// starts a new one; the tree goes on across files.
func (l *Log) rotate() error {
	if l.n == l.base {
		return nil
	}
	if err := l.checkpoint(); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("close records: %w", err)
	}
	if err := os.Rename(l.path, segmentPath(l.path, l.base, l.n-1)); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	l.f, l.base, l.size = f, l.n, 0
	if err := syncDir(filepath.Dir(l.path)); err != nil {
		return fmt.Errorf("sync log directory: %w", err)
	}
	return nil
}

// Close writes every queued record, a last checkpoint, syncs and closes the
// files. It returns the log's fatal error, if it had one.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	err := l.Err()
	if err == nil && l.n > l.cpIssued {
		err = l.checkpoint()
	}
	close(l.cpJobs)
	<-l.cpDone
	if err == nil {
		err = l.Err()
	}
	if cerr := l.closeFiles(); err == nil && cerr != nil {
		err = fmt.Errorf("close audit log: %w", cerr)
	}
	return err
}

func (l *Log) closeFiles() error {
	var first error
	for _, f := range []*os.File{l.f, l.hf, l.cf} {
		if f == nil {
			continue
		}
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// checkpointLine is one line of LOG.checkpoints.
type checkpointLine struct {
	Note string `json:"note"`
}

// lastCheckpoint reads the last checkpoint of a checkpoints file; with cut,
// a torn last line is cut off.
func lastCheckpoint(f *os.File, cut bool) (*SignedCheckpoint, error) {
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	lr := newLineReader(f)
	var last []byte
	for {
		ln, ok, err := lr.Next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		last = append(last[:0], ln.data...)
	}
	if len(lr.Torn) > 0 && cut {
		if err := f.Truncate(lr.offset); err != nil {
			return nil, err
		}
	}
	if last == nil {
		return nil, nil
	}
	var cl checkpointLine
	if err := json.Unmarshal(last, &cl); err != nil {
		return nil, fmt.Errorf("last checkpoint: %w", err)
	}
	cp, err := OpenCheckpoint([]byte(cl.Note), nil)
	if err != nil {
		return nil, err
	}
	return &cp, nil
}
