package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The files of a log at path LOG:
//
//	LOG                      records being appended (JSON lines)
//	LOG.<first>-<last>       rotated records, first and last record numbers
//	LOG.hashes               the tree's stored hashes (tlog), 32 bytes each
//	LOG.checkpoints          every checkpoint written, one JSON line each
//	LOG.torn                 torn tails cut off after a crash, kept for forensics
func hashesPath(path string) string      { return path + ".hashes" }
func checkpointsPath(path string) string { return path + ".checkpoints" }
func tornPath(path string) string        { return path + ".torn" }

func segmentPath(path string, first, last int64) string {
	return fmt.Sprintf("%s.%012d-%012d", path, first, last)
}

// segment is one file of records: a rotated one (last >= first) or the
// active one (last == -1, unknown until read).
type segment struct {
	path        string
	first, last int64
}

// segments lists the rotated files of the log at path, in record order, and
// the active file last.
func segments(path string) ([]segment, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read log directory: %w", err)
	}
	var segs []segment
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok || len(rest) != 25 || rest[12] != '-' {
			continue
		}
		first, err1 := strconv.ParseInt(rest[:12], 10, 64)
		last, err2 := strconv.ParseInt(rest[13:], 10, 64)
		if err1 != nil || err2 != nil || last < first {
			continue
		}
		segs = append(segs, segment{path: filepath.Join(dir, e.Name()), first: first, last: last})
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].first < segs[j].first })
	next := int64(0)
	if len(segs) > 0 {
		next = segs[len(segs)-1].last + 1
	}
	return append(segs, segment{path: path, first: next, last: -1}), nil
}

// line is one record as read from a file.
type line struct {
	data   []byte // without the newline; valid until the next read
	offset int64
}

// lineReader reads newline-terminated records and reports what follows the
// last newline (a torn tail) separately.
type lineReader struct {
	r      *bufio.Reader
	offset int64
	buf    []byte
	// Torn holds the bytes after the last newline once Next returned false.
	Torn []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// Next returns the next complete line, or ok false at the end (or on a read
// error, returned as err).
func (lr *lineReader) Next() (l line, ok bool, err error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			lr.buf = append(lr.buf, chunk...)
			continue
		}
		if err == nil {
			data := chunk
			if len(lr.buf) > 0 {
				data = append(lr.buf, chunk...)
			}
			l = line{data: data[:len(data)-1], offset: lr.offset}
			lr.offset += int64(len(data))
			return l, true, nil
		}
		if errors.Is(err, io.EOF) {
			lr.Torn = append(lr.buf, chunk...)
			return line{}, false, nil
		}
		return line{}, false, err
	}
}

// syncDir makes a file's creation, rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
