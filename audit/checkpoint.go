package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Origin is the first line of every checkpoint: it names what the tree is a
// tree of, so a checkpoint of this log cannot pass for one of another kind.
const Origin = "charter.dev/audit/v1"

// Checkpoint is the state of the tree at one moment: its size, its root hash
// and when it was taken. Its text follows the C2SP tlog-checkpoint layout:
//
//	charter.dev/audit/v1
//	<tree size>
//	<base64 root hash>
//	time <RFC 3339>
//
// and it is wrapped in a signed note (golang.org/x/mod/sumdb/note).
type Checkpoint struct {
	Size int64
	Hash tlog.Hash
	Time time.Time
}

// Text is the checkpoint's note text.
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\ntime %s\n", Origin, c.Size,
		base64.StdEncoding.EncodeToString(c.Hash[:]), c.Time.UTC().Format(time.RFC3339Nano))
}

// ParseCheckpointText reads a checkpoint's note text.
func ParseCheckpointText(text string) (Checkpoint, error) {
	var c Checkpoint
	lines := strings.Split(text, "\n")
	if len(lines) != 5 || lines[4] != "" {
		return c, errors.New("checkpoint: want 4 lines (origin, size, hash, time)")
	}
	if lines[0] != Origin {
		return c, fmt.Errorf("checkpoint: origin %q, want %q", lines[0], Origin)
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return c, fmt.Errorf("checkpoint: bad tree size %q", lines[1])
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return c, fmt.Errorf("checkpoint: bad root hash %q", lines[2])
	}
	ts, ok := strings.CutPrefix(lines[3], "time ")
	if !ok {
		return c, fmt.Errorf("checkpoint: bad time line %q", lines[3])
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return c, fmt.Errorf("checkpoint: bad time %q", ts)
	}
	c.Size, c.Time = n, t
	copy(c.Hash[:], h)
	return c, nil
}

// SignedCheckpoint is a checkpoint as published: the note (text and
// signature lines) and what it says.
type SignedCheckpoint struct {
	Checkpoint
	Note []byte
	// Signed is true when the note carries at least one signature line.
	Signed bool
}

// SignCheckpoint wraps c in a note signed by s; with a nil signer the note
// has no signature lines (a log without a key).
func SignCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	if s == nil {
		return []byte(c.Text() + "\n"), nil
	}
	return note.Sign(&note.Note{Text: c.Text()}, s)
}

// OpenCheckpoint parses a checkpoint note. With a verifier, the note must
// carry a valid signature by it (a *Failure otherwise); without one, the
// signature lines are not checked.
func OpenCheckpoint(msg []byte, v note.Verifier) (SignedCheckpoint, error) {
	if v == nil {
		text, sigs, ok := bytes.Cut(msg, []byte("\n\n"))
		if !ok {
			return SignedCheckpoint{}, errors.New("checkpoint: malformed note (no blank line before the signatures)")
		}
		c, err := ParseCheckpointText(string(text) + "\n")
		if err != nil {
			return SignedCheckpoint{}, err
		}
		return SignedCheckpoint{Checkpoint: c, Note: msg, Signed: len(sigs) > 0}, nil
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return SignedCheckpoint{}, &Failure{Record: -1, Reason: "checkpoint is not signed by the given key (" + v.Name() + ")"}
		case errors.As(err, &invalid):
			return SignedCheckpoint{}, &Failure{Record: -1, Reason: "checkpoint signature does not verify: " + err.Error()}
		}
		return SignedCheckpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	c, err := ParseCheckpointText(n.Text)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	return SignedCheckpoint{Checkpoint: c, Note: msg, Signed: true}, nil
}
