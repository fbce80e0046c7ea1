package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Failure says the log is not what its tree or its checkpoints say: a
// record was modified, deleted, inserted, duplicated or moved, or the log
// was truncated. Any other error from Verify means it could not check.
type Failure struct {
	// Record is the number of the first bad record (0 is the first record),
	// -1 when the failure is not about one record.
	Record int64
	File   string
	Line   int64 // line in File, 1-based
	Offset int64 // byte offset in File
	Reason string
}

func (f *Failure) Error() string {
	if f.Record < 0 {
		return f.Reason
	}
	if f.File == "" {
		return fmt.Sprintf("record %d: %s", f.Record, f.Reason)
	}
	return fmt.Sprintf("record %d (%s line %d, byte offset %d): %s", f.Record, f.File, f.Line, f.Offset, f.Reason)
}

// IsFailure reports whether err is a verification failure (exit 1) rather
// than an inability to check (exit 2).
func IsFailure(err error) bool {
	var f *Failure
	return errors.As(err, &f)
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Verifier checks checkpoint signatures. With one, the log must have a
	// checkpoint and every checkpoint must be signed by it.
	Verifier note.Verifier
	// Older is a checkpoint published earlier; Verify proves the log is an
	// append-only extension of it (consistency proof).
	Older []byte
}

// Report is what a successful Verify found.
type Report struct {
	Records     int64
	Files       int
	Checkpoints int
	// Latest is the last checkpoint in the log, nil when there is none.
	Latest *SignedCheckpoint
	// Unsealed counts the records after the latest checkpoint: they are in
	// the tree but no checkpoint vouches for them yet.
	Unsealed int64
	// TornBytes is an incomplete last record left by a crash, which the
	// next Open cuts off; it is not part of the log.
	TornBytes int
	// Older is the checkpoint the log was proven to extend.
	Older *SignedCheckpoint
}

// record is where one record sits and its hash.
type record struct {
	hash   tlog.Hash
	file   int
	line   int64
	offset int64
}

type verifier struct {
	path    string
	files   []segment
	recs    []record
	stored  []tlog.Hash // LOG.hashes
	tree    []tlog.Hash // recomputed from the records
	torn    int
	counts  []int64 // records in each file
	opts    VerifyOptions
	results Report
}

// Verify checks every record of the log at path against its stored tree and
// every checkpoint, and (with VerifyOptions.Older) that the log extends an
// older checkpoint. It returns a *Failure naming the first bad record when
// the log was tampered with.
func Verify(path string, o VerifyOptions) (*Report, error) {
	v := &verifier{path: path, opts: o}
	if err := v.readStored(); err != nil {
		return nil, err
	}
	// The stored tree says about how many records to expect: size the
	// slices once instead of growing them a million times.
	v.recs = make([]record, 0, recordsCovered(int64(len(v.stored)))+64)
	if err := v.readRecords(); err != nil {
		return nil, err
	}
	if err := v.checkTree(); err != nil {
		return nil, err
	}
	if err := v.checkFileNames(); err != nil {
		return nil, err
	}
	if err := v.checkCheckpoints(); err != nil {
		return nil, err
	}
	if err := v.checkOlder(); err != nil {
		return nil, err
	}
	v.results.Records = int64(len(v.recs))
	v.results.Files = len(v.files)
	v.results.TornBytes = v.torn
	return &v.results, nil
}

func (v *verifier) readRecords() error {
	segs, err := segments(v.path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(v.path); err != nil && len(segs) == 1 {
		return fmt.Errorf("open audit log: %w", err)
	}
	for _, s := range segs {
		if int64(len(v.recs)) != s.first && s.last >= 0 {
			return &Failure{Record: int64(len(v.recs)), File: s.path, Line: 1,
				Reason: fmt.Sprintf("records %d to %d are missing: the next file %s starts at record %d", len(v.recs), s.first-1, s.path, s.first)}
		}
		f, err := os.Open(s.path)
		if errors.Is(err, os.ErrNotExist) && s.last < 0 {
			continue // rotated, and stopped before a new file was created
		}
		if err != nil {
			return fmt.Errorf("open audit log: %w", err)
		}
		v.files = append(v.files, s)
		lr := newLineReader(f)
		var n int64
		for {
			ln, ok, err := lr.Next()
			if err != nil {
				f.Close()
				return fmt.Errorf("read %s: %w", s.path, err)
			}
			if !ok {
				break
			}
			n++
			v.recs = append(v.recs, record{hash: tlog.RecordHash(ln.data), file: len(v.files) - 1, line: n, offset: ln.offset})
		}
		f.Close()
		if len(lr.Torn) > 0 {
			if s.last >= 0 {
				return &Failure{Record: int64(len(v.recs)), File: s.path, Line: n + 1, Offset: lr.offset,
					Reason: "a rotated file ends in an incomplete record"}
			}
			v.torn = len(lr.Torn)
		}
		v.counts = append(v.counts, n)
	}
	return nil
}

func (v *verifier) readStored() error {
	b, err := os.ReadFile(hashesPath(v.path))
	if errors.Is(err, os.ErrNotExist) {
		b, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("read stored hashes: %w", err)
	}
	v.stored = make([]tlog.Hash, len(b)/tlog.HashSize)
	for i := range v.stored {
		copy(v.stored[i][:], b[i*tlog.HashSize:])
	}
	return nil
}

func (v *verifier) readTree(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(v.tree)) {
			return nil, fmt.Errorf("stored hash %d out of range", x)
		}
		out[i] = v.tree[x]
	}
	return out, nil
}

func (v *verifier) failAt(n int64, reason string) *Failure {
	if n >= int64(len(v.recs)) {
		f := &Failure{Record: n, Reason: reason}
		if len(v.files) > 0 {
			last := v.files[len(v.files)-1]
			f.File = last.path
			if fi, err := os.Stat(last.path); err == nil {
				f.Offset = fi.Size() - int64(v.torn)
			}
			f.Line = n - last.first + 1
		}
		return f
	}
	r := v.recs[n]
	return &Failure{Record: n, File: v.files[r.file].path, Line: r.line, Offset: r.offset, Reason: reason}
}

// checkTree recomputes the tree from the records and compares it with the
// stored one, naming the first record that differs and how.
func (v *verifier) checkTree() error {
	covered := recordsCovered(int64(len(v.stored)))
	v.tree = make([]tlog.Hash, 0, tlog.StoredHashCount(int64(len(v.recs))))
	reader := tlog.HashReaderFunc(v.readTree)
	for n, r := range v.recs {
		n := int64(n)
		if n < covered && v.stored[tlog.StoredHashIndex(0, n)] != r.hash {
			return v.diagnose(n, covered)
		}
		hs, err := tlog.StoredHashesForRecordHash(n, r.hash, reader)
		if err != nil {
			return err
		}
		v.tree = append(v.tree, hs...)
	}
	total := int64(len(v.recs))
	if covered > total {
		reason := fmt.Sprintf("log truncated: the stored tree has %d records, the log %d; records %d to %d were removed", covered, total, total, covered-1)
		if _, err := os.Stat(v.path); errors.Is(err, os.ErrNotExist) && len(v.files) > 0 {
			reason += fmt.Sprintf(" (the active file %s is missing)", v.path)
		}
		return v.failAt(total, reason)
	}
	limit := min(int64(len(v.tree)), tlog.StoredHashCount(covered))
	for i := range limit {
		if v.tree[i] != v.stored[i] {
			level, n := tlog.SplitStoredHashIndex(i)
			first := n << level
			return v.failAt(first, fmt.Sprintf("stored hash %d (over records %d to %d) in %s was altered", i, first, first+1<<level-1, hashesPath(v.path)))
		}
	}
	return nil
}

// diagnose explains the first record whose hash differs from the stored
// tree: which of modify, insert, delete, duplicate or reorder fits.
func (v *verifier) diagnose(n, covered int64) error {
	stored := map[tlog.Hash]int64{}
	for m := range covered {
		h := v.stored[tlog.StoredHashIndex(0, m)]
		if _, ok := stored[h]; !ok {
			stored[h] = m
		}
	}
	want := v.stored[tlog.StoredHashIndex(0, n)]
	laterAt := int64(-1)
	for k := n + 1; k < int64(len(v.recs)); k++ {
		if v.recs[k].hash == want {
			laterAt = k
			break
		}
	}
	got := v.recs[n].hash
	m, known := stored[got]
	var reason string
	switch {
	case !known && laterAt == n+1:
		reason = fmt.Sprintf("inserted: this record is not in the stored tree, and record %d of the tree follows it", n)
	case !known:
		reason = "modified: this record's hash is not in the stored tree"
	case m < n:
		reason = fmt.Sprintf("duplicated: this is a copy of record %d", m)
	case laterAt > n:
		reason = fmt.Sprintf("reordered: this is record %d of the stored tree, and record %d appears later, at position %d", m, n, laterAt)
	default:
		reason = fmt.Sprintf("deleted: records %d to %d of the stored tree are missing; this is record %d", n, m-1, m)
		if r := v.recs[n]; r.line == 1 && v.files[r.file].last < 0 {
			// The active file starts where a rotated file should: was it removed?
			if _, err := os.Stat(segmentPath(v.path, n, m-1)); errors.Is(err, os.ErrNotExist) {
				reason += fmt.Sprintf(" (they would be the rotated file %s, which does not exist)", segmentPath(v.path, n, m-1))
			}
		}
	}
	return v.failAt(n, reason)
}

func (v *verifier) checkCheckpoints() error {
	f, err := os.Open(checkpointsPath(v.path))
	if errors.Is(err, os.ErrNotExist) {
		if v.opts.Verifier != nil {
			return &Failure{Record: -1, Reason: "no signed checkpoint: " + checkpointsPath(v.path) + " is missing"}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("open checkpoints: %w", err)
	}
	defer f.Close()
	total := int64(len(v.recs))
	lr := newLineReader(f)
	var prev int64
	for k := 1; ; k++ {
		ln, ok, err := lr.Next()
		if err != nil {
			return fmt.Errorf("read checkpoints: %w", err)
		}
		if !ok {
			break
		}
		var cl checkpointLine
		if err := json.Unmarshal(ln.data, &cl); err != nil {
			return &Failure{Record: -1, Reason: fmt.Sprintf("%s line %d: not a checkpoint: %v", checkpointsPath(v.path), k, err)}
		}
		cp, err := OpenCheckpoint([]byte(cl.Note), v.opts.Verifier)
		if err != nil {
			var f *Failure
			if errors.As(err, &f) {
				f.Reason = fmt.Sprintf("%s line %d: %s", checkpointsPath(v.path), k, f.Reason)
				return f
			}
			return &Failure{Record: -1, Reason: fmt.Sprintf("%s line %d: %v", checkpointsPath(v.path), k, err)}
		}
		if cp.Size < prev {
			return &Failure{Record: -1, Reason: fmt.Sprintf("%s line %d: checkpoint of %d records after one of %d: checkpoints go back", checkpointsPath(v.path), k, cp.Size, prev)}
		}
		if cp.Size > total {
			return v.failAt(total, fmt.Sprintf("log truncated: checkpoint %d covers %d records, the log has %d; records from %d on were removed", k, cp.Size, total, total))
		}
		th, err := tlog.TreeHash(cp.Size, tlog.HashReaderFunc(v.readTree))
		if err != nil {
			return err
		}
		if th != cp.Hash {
			if v.results.Checkpoints == 0 {
				// Not one checkpoint matched: the two cases below look the
				// same to a verifier, so the message names both.
				return v.failAt(0, fmt.Sprintf("checkpoint %d (%d records) does not match the records, and no earlier checkpoint did: %s holds another log's checkpoints (signed by the same key), or records 0 to %d were rewritten together with the stored hashes",
					k, cp.Size, checkpointsPath(v.path), cp.Size-1))
			}
			return v.failAt(prev, fmt.Sprintf("checkpoint %d (%d records) does not match the records: one of records %d to %d was changed, and the stored hashes with it", k, cp.Size, prev, cp.Size-1))
		}
		prev = cp.Size
		v.results.Checkpoints++
		v.results.Latest = &cp
	}
	if v.opts.Verifier != nil && v.results.Latest == nil && total > 0 {
		return &Failure{Record: -1, Reason: "no signed checkpoint: " + checkpointsPath(v.path) + " is empty"}
	}
	v.results.Unsealed = total - prev
	return nil
}

func (v *verifier) checkOlder() error {
	if v.opts.Older == nil {
		return nil
	}
	old, err := OpenCheckpoint(v.opts.Older, v.opts.Verifier)
	if err != nil {
		return err
	}
	total := int64(len(v.recs))
	if old.Size > total {
		return v.failAt(total, fmt.Sprintf("log truncated: the older checkpoint covers %d records, the log has %d", old.Size, total))
	}
	reader := tlog.HashReaderFunc(v.readTree)
	th, err := tlog.TreeHash(total, reader)
	if err != nil {
		return err
	}
	proof, err := tlog.ProveTree(total, old.Size, reader)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(proof, total, th, old.Size, old.Hash); err != nil {
		return &Failure{Record: -1, Reason: fmt.Sprintf("the log is not an append-only extension of the older checkpoint (%d records): %v", old.Size, err)}
	}
	v.results.Older = &old
	return nil
}

// checkFileNames checks that each rotated file holds the records its name
// says, once the tree agrees with the records.
func (v *verifier) checkFileNames() error {
	for i, s := range v.files {
		if s.last >= 0 && s.last-s.first+1 != v.counts[i] {
			return &Failure{Record: s.first, File: s.path, Line: 1,
				Reason: fmt.Sprintf("the file is named for records %d to %d but holds %d records", s.first, s.last, v.counts[i])}
		}
	}
	return nil
}
