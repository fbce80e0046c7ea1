package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Stream renders results one at a time, as a scan decides them: Add each
// result in order, then Close once to finish the document. No stream keeps
// a Result: text, json and sarif write each one as it comes; junit, html
// and policyreport, whose documents open with totals, write what they print
// of it to a spool (memory, then a temporary file) and copy it on Close.
type Stream interface {
	Add(r Result) error
	Close() error
}

// writeAll renders results through a stream: what Write does for every format.
func writeAll(s Stream, results []Result) error {
	for _, r := range results {
		if err := s.Add(r); err != nil {
			return err
		}
	}
	return s.Close()
}

// arrayStream writes an indented JSON document one element of its array
// at a time. The document is encoded once with the array empty and split
// there; each element is encoded with the indentation of its depth, so the
// bytes are those json.Encoder would write for the whole document at once
// while only one element is in memory.
type arrayStream struct {
	w          io.Writer
	head, tail string // the document before and after the array's "[]"
	indent     string // of the array's elements
	n          int
	buf        bytes.Buffer
	enc        *json.Encoder
	err        error
}

// newArrayStream prepares doc, whose field key holds an empty array and is
// the last field of that name in the document, for streaming.
func newArrayStream(w io.Writer, doc any, key string) *arrayStream {
	s := &arrayStream{w: w}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if s.err = enc.Encode(doc); s.err != nil {
		return s
	}
	text, mark := b.String(), `"`+key+`": []`
	at := strings.LastIndex(text, mark)
	if at < 0 {
		s.err = fmt.Errorf("report: no empty %q array to stream into", key)
		return s
	}
	split := at + len(mark) - len("[]")
	s.head, s.tail = text[:split], text[split+len("[]"):]
	lineStart := strings.LastIndex(text[:at], "\n") + 1
	s.indent = text[lineStart:at] + "  "
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetIndent(s.indent, "  ")
	s.enc.SetEscapeHTML(false)
	return s
}

func (s *arrayStream) add(v any) error {
	if s.encodeElem(v) != nil {
		return s.err
	}
	_, s.err = s.w.Write(s.buf.Bytes())
	return s.err
}

// encodeElem puts v into buf as the next element, after the array's opening
// (the first time) or a comma.
func (s *arrayStream) encodeElem(v any) error {
	if s.err != nil {
		return s.err
	}
	s.buf.Reset()
	if s.n == 0 {
		s.buf.WriteString(s.head + "[\n" + s.indent)
	} else {
		s.buf.WriteString(",\n" + s.indent)
	}
	if s.err = s.enc.Encode(v); s.err != nil {
		return s.err
	}
	s.buf.Truncate(s.buf.Len() - 1) // Encode's newline
	s.n++
	return nil
}

// addSplit adds v, writing fill in place of the empty array of its field
// key (v's last field of that name): for an element whose array is itself
// streamed.
func (s *arrayStream) addSplit(v any, key string, fill func(io.Writer) error) error {
	if s.encodeElem(v) != nil {
		return s.err
	}
	text, mark := s.buf.Bytes(), []byte(`"`+key+`": []`)
	at := bytes.LastIndex(text, mark)
	if at < 0 {
		s.err = fmt.Errorf("report: no empty %q array to fill", key)
		return s.err
	}
	split := at + len(mark) - len("[]")
	if _, s.err = s.w.Write(text[:split]); s.err != nil {
		return s.err
	}
	if s.err = fill(s.w); s.err != nil {
		return s.err
	}
	_, s.err = s.w.Write(text[split+len("[]"):])
	return s.err
}

func (s *arrayStream) close() error {
	if s.err != nil {
		return s.err
	}
	if s.n == 0 {
		_, s.err = io.WriteString(s.w, s.head+"[]"+s.tail)
	} else {
		_, s.err = io.WriteString(s.w, "\n"+s.indent[:len(s.indent)-2]+"]"+s.tail)
	}
	return s.err
}
