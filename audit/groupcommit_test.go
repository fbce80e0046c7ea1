package audit

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// holdFirstSync makes the log's first fsync wait: entered is closed when it
// starts, and it goes on once release is closed.
func holdFirstSync(l *Log) (entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	l.beforeSync = func() {
		once.Do(func() {
			close(entered)
			<-release
		})
	}
	return entered, release
}

// waitQueued waits until n records wait for the writer.
func waitQueued(t *testing.T, l *Log, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(l.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records queued after 10 s", len(l.reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Every record that arrives while an fsync runs joins the next group: 64
// concurrent appenders are acknowledged with two fsyncs, not 64.
func TestGroupCommitOneFsyncForAllWaiting(t *testing.T) {
	s, v := testKey(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Sync: true, Signer: s})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 64
	entered, release := holdFirstSync(l)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	wg.Go(func() { errs <- l.Append(context.Background(), rec(0)) })
	<-entered // record 0 is being fsynced; the others queue behind it
	for i := 1; i < writers; i++ {
		wg.Go(func() { errs <- l.Append(context.Background(), rec(i)) })
	}
	waitQueued(t, l, writers-1)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := l.Stats()
	if st.Records != writers || st.Commits != 2 || st.Syncs != 2 {
		t.Errorf("stats %+v, want %d records in 2 commits with 2 fsyncs", st, writers)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(path, VerifyOptions{Verifier: v})
	if err != nil || r.Records != writers {
		t.Fatalf("verify: %v %+v", err, r)
	}
}

// Under free-running load (no hook), concurrent appenders still share
// fsyncs: never more fsyncs than commits, never more commits than records.
func TestGroupCommitStatsUnderLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Sync: true, CheckpointEvery: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 32, 20
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := range each {
				if err := l.Append(context.Background(), rec(i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := l.Stats()
	if st.Records != writers*each || st.Commits > st.Records || st.Syncs != st.Commits {
		t.Errorf("stats %+v: want %d records, one fsync per commit", st, writers*each)
	}
	t.Logf("%d records in %d group commits (%.1f records per fsync)", st.Records, st.Commits, float64(st.Records)/float64(st.Commits))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// A failed fsync fails every record of its group and every later one, with
// the same error, and is never retried. The records file is swapped for a
// pipe: write(2) to it succeeds and the kernel refuses fsync(2) (EINVAL).
func TestFsyncErrorFailsWaitersAndLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	const waiting = 32
	entered, release := holdFirstSync(l)
	first := make(chan error, 1)
	go func() { first <- l.Append(context.Background(), rec(0)) }()
	<-entered
	// Record 0 is being fsynced to the real file; the next group goes to
	// the pipe. (The writer reads l.f again only after release.)
	real := l.f
	defer real.Close()
	errs := make(chan error, waiting)
	var wg sync.WaitGroup
	for i := 1; i <= waiting; i++ {
		wg.Go(func() { errs <- l.Append(context.Background(), rec(i)) })
	}
	waitQueued(t, l, waiting)
	l.f = pw
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("record 0, fsynced before the failure: %v", err)
	}
	wg.Wait()
	close(errs)
	var want string
	n := 0
	for err := range errs {
		n++
		if err == nil {
			t.Fatal("an appender of the failed group was acknowledged")
		}
		if want == "" {
			want = err.Error()
		}
		if err.Error() != want {
			t.Errorf("appenders got different errors: %q and %q", want, err)
		}
	}
	if n != waiting || !strings.Contains(want, "fsync records") || !strings.Contains(want, "no more records are accepted") ||
		!strings.Contains(want, syscall.EINVAL.Error()) {
		t.Fatalf("%d errors, %q", n, want)
	}
	for i := range 3 {
		if err := l.Append(context.Background(), rec(100+i)); err == nil || err.Error() != want {
			t.Errorf("append after the fsync error: %v, want %q", err, want)
		}
	}
	if st := l.Stats(); st.Syncs != 2 || st.Commits != 1 || st.Records != 1 {
		t.Errorf("stats %+v: want 2 fsyncs (the failed one not retried), 1 good commit", st)
	}
	if err := l.Close(); err == nil || err.Error() != want {
		t.Errorf("close: %v, want the fatal error", err)
	}
	if st := l.Stats(); st.Syncs != 2 {
		t.Errorf("close fsynced after the fatal error: %+v", st)
	}
	lines := readLines(t, path)
	if len(lines) != 1 || !strings.Contains(string(lines[0]), `"n":0`) {
		t.Errorf("records file: %q", lines)
	}
}

// blockingSigner holds every signature until release is closed.
type blockingSigner struct {
	note.Signer
	signing chan struct{} // receives once per signature started
	release chan struct{}
}

func (s *blockingSigner) Sign(msg []byte) ([]byte, error) {
	s.signing <- struct{}{}
	<-s.release
	return s.Signer.Sign(msg)
}

// A checkpoint being signed (a remote KMS can take its time) does not stall
// appends: they go on, and the checkpoints are written in order once the
// signer answers.
func TestCheckpointDoesNotStallAppends(t *testing.T) {
	s, v := testKey(t)
	bs := &blockingSigner{Signer: s, signing: make(chan struct{}, 64), release: make(chan struct{})}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Sync: true, Signer: bs, CheckpointEvery: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := l.Append(context.Background(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-bs.signing:
	case <-time.After(10 * time.Second):
		t.Fatal("no checkpoint started after 2 records")
	}
	// The checkpoint of 2 records waits for its signature; appends go on.
	done := make(chan error, 1)
	go func() {
		for i := 2; i < 20; i++ {
			if err := l.Append(context.Background(), rec(i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("appends stalled behind a checkpoint's signature")
	}
	close(bs.release)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(path, VerifyOptions{Verifier: v})
	if err != nil || r.Records != 20 || r.Latest.Size != 20 || r.Checkpoints != 10 {
		t.Fatalf("verify: %v %+v", err, r)
	}
}

// With MinSyncInterval, records that come within the interval after an
// fsync started wait for its end and share one fsync; a record after a
// quiet spell is fsynced at once.
func TestMinSyncIntervalGathers(t *testing.T) {
	const interval = 300 * time.Millisecond
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, Options{Sync: true, MinSyncInterval: interval, CheckpointEvery: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.Append(context.Background(), rec(0)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= interval {
		t.Fatalf("the first record waited %s", d)
	}
	var wg sync.WaitGroup
	for i := 1; i <= 10; i++ {
		wg.Go(func() {
			if err := l.Append(context.Background(), rec(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d < interval {
		t.Errorf("the second group was fsynced %s after the first, before the interval", d)
	}
	if st := l.Stats(); st.Records != 11 || st.Commits != 2 || st.Syncs != 2 {
		t.Errorf("stats %+v: want 11 records in 2 commits", st)
	}
	time.Sleep(interval)
	t0 := time.Now()
	if err := l.Append(context.Background(), rec(11)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d >= interval {
		t.Errorf("a record after a quiet spell waited %s", d)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
