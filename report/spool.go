package report

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// spoolMemory is how much of a document's body a spool keeps in memory
// before it moves to a temporary file: small reports never touch the disk.
const spoolMemory = 4 << 20

// spool holds the body of a document that opens with totals (junit, html,
// policyreport), so that the body is written as results come and memory
// does not grow with their number: in memory up to its limit, then in a
// temporary file of its own, which Close removes (on Linux the file is
// unlinked as soon as it is created and goes away with the process).
type spool struct {
	limit   int
	mem     bytes.Buffer
	file    *os.File
	name    string // the file's name while it still has one
	written int64
}

func newSpool() *spool { return &spool{limit: spoolMemory} }

func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && s.mem.Len()+len(p) > s.limit {
		f, err := os.CreateTemp("", "charter-report-*")
		if err != nil {
			return 0, err
		}
		s.file, s.name = f, f.Name()
		if os.Remove(s.name) == nil {
			s.name = ""
		}
		if _, err := s.mem.WriteTo(f); err != nil {
			return 0, err
		}
		s.mem = bytes.Buffer{}
	}
	s.written += int64(len(p))
	if s.file != nil {
		return s.file.Write(p)
	}
	return s.mem.Write(p)
}

// Len is how many bytes were written.
func (s *spool) Len() int64 { return s.written }

// copyRange writes n bytes at offset off of what was written to w.
func (s *spool) copyRange(w io.Writer, off, n int64) error {
	if s.file == nil {
		_, err := w.Write(s.mem.Bytes()[off : off+n])
		return err
	}
	_, err := io.Copy(w, io.NewSectionReader(s.file, off, n))
	return err
}

// WriteTo writes everything written to w.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	return s.written, s.copyRange(w, 0, s.written)
}

// Close removes the temporary file, if there is one.
func (s *spool) Close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	if s.name != "" {
		err = errors.Join(err, os.Remove(s.name))
	}
	s.file, s.name = nil, ""
	return err
}
