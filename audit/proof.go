package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ProofSchema names the version of the proof format.
const ProofSchema = "charter.dev/audit-proof/v1"

// Proof is a self-contained proof an auditor checks without the log:
//
//   - inclusion: Record (the exact line) is record Index of the tree that
//     Checkpoint signs;
//   - consistency: the tree Checkpoint signs extends the tree Older signs.
type Proof struct {
	Schema     string      `json:"schema"`
	Kind       string      `json:"kind"` // inclusion or consistency
	Checkpoint string      `json:"checkpoint"`
	Index      int64       `json:"index,omitempty"`
	Record     string      `json:"record,omitempty"`
	Older      string      `json:"older,omitempty"`
	Hashes     []tlog.Hash `json:"proof"`
}

// storedReader reads stored hashes from LOG.hashes.
type storedReader struct{ f *os.File }

func (s storedReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if _, err := s.f.ReadAt(out[i][:], x*tlog.HashSize); err != nil {
			return nil, fmt.Errorf("read stored hash %d: %w", x, err)
		}
	}
	return out, nil
}

// latest opens the log's stored hashes and its last checkpoint.
func latest(path string) (storedReader, *SignedCheckpoint, error) {
	cf, err := os.Open(checkpointsPath(path))
	if err != nil {
		return storedReader{}, nil, fmt.Errorf("open checkpoints: %w", err)
	}
	defer cf.Close()
	cp, err := lastCheckpoint(cf, false)
	if err != nil {
		return storedReader{}, nil, err
	}
	if cp == nil {
		return storedReader{}, nil, errors.New("the log has no checkpoint yet")
	}
	hf, err := os.Open(hashesPath(path))
	if err != nil {
		return storedReader{}, nil, fmt.Errorf("open stored hashes: %w", err)
	}
	return storedReader{hf}, cp, nil
}

// ProveRecord proves that record n is in the tree of the log's latest
// checkpoint.
func ProveRecord(path string, n int64) (*Proof, error) {
	hr, cp, err := latest(path)
	if err != nil {
		return nil, err
	}
	defer hr.f.Close()
	if n < 0 || n >= cp.Size {
		return nil, fmt.Errorf("record %d is not covered by the latest checkpoint (%d records)", n, cp.Size)
	}
	data, err := readRecord(path, n)
	if err != nil {
		return nil, err
	}
	p, err := tlog.ProveRecord(cp.Size, n, hr)
	if err != nil {
		return nil, fmt.Errorf("prove record %d: %w", n, err)
	}
	// A proof that does not check would only mislead its reader.
	if err := tlog.CheckRecord(p, cp.Size, cp.Hash, n, tlog.RecordHash(data)); err != nil {
		return nil, &Failure{Record: n, Reason: "the record does not match the latest checkpoint; run verify: " + err.Error()}
	}
	return &Proof{Schema: ProofSchema, Kind: "inclusion", Checkpoint: string(cp.Note), Index: n, Record: string(data), Hashes: p}, nil
}

// ProveExtension proves that the log's latest checkpoint extends older.
func ProveExtension(path string, older []byte) (*Proof, error) {
	old, err := OpenCheckpoint(older, nil)
	if err != nil {
		return nil, err
	}
	hr, cp, err := latest(path)
	if err != nil {
		return nil, err
	}
	defer hr.f.Close()
	if old.Size > cp.Size {
		return nil, &Failure{Record: cp.Size, Reason: fmt.Sprintf("log truncated: the older checkpoint covers %d records, the latest %d", old.Size, cp.Size)}
	}
	p, err := tlog.ProveTree(cp.Size, old.Size, hr)
	if err != nil {
		return nil, fmt.Errorf("prove consistency: %w", err)
	}
	if err := tlog.CheckTree(p, cp.Size, cp.Hash, old.Size, old.Hash); err != nil {
		return nil, &Failure{Record: -1, Reason: "the latest checkpoint does not extend the older one: " + err.Error()}
	}
	return &Proof{Schema: ProofSchema, Kind: "consistency", Checkpoint: string(cp.Note), Older: string(older), Hashes: p}, nil
}

// readRecord finds record n in the log's files.
func readRecord(path string, n int64) ([]byte, error) {
	segs, err := segments(path)
	if err != nil {
		return nil, err
	}
	for _, s := range segs {
		if s.last >= 0 && n > s.last || n < s.first {
			continue
		}
		f, err := os.Open(s.path)
		if err != nil {
			return nil, fmt.Errorf("open audit log: %w", err)
		}
		defer f.Close()
		lr := newLineReader(f)
		for i := s.first; ; i++ {
			ln, ok, err := lr.Next()
			if err != nil {
				return nil, err
			}
			if !ok {
				break
			}
			if i == n {
				return bytes.Clone(ln.data), nil
			}
		}
	}
	return nil, fmt.Errorf("record %d not found in %s", n, path)
}

// ParseProof reads a proof, rejecting unknown fields and other versions.
func ParseProof(data []byte) (*Proof, error) {
	var p Proof
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse proof: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse proof: data after the proof")
	}
	if p.Schema != ProofSchema {
		return nil, fmt.Errorf("parse proof: schema %q, want %q", p.Schema, ProofSchema)
	}
	switch p.Kind {
	case "inclusion":
		if p.Older != "" || p.Index < 0 {
			return nil, errors.New("parse proof: an inclusion proof has an index >= 0 and a record, no older checkpoint")
		}
	case "consistency":
		if p.Record != "" || p.Index != 0 {
			return nil, errors.New("parse proof: a consistency proof has an older checkpoint, no record")
		}
	default:
		return nil, fmt.Errorf("parse proof: kind %q, want inclusion or consistency", p.Kind)
	}
	if len(p.Hashes) > 128 {
		return nil, errors.New("parse proof: too many hashes")
	}
	return &p, nil
}

// CheckProof checks a proof on its own. With a verifier, the checkpoints
// must be signed by it; without one their signatures are not checked (the
// proof then only shows internal consistency). A proof that does not hold
// is a *Failure.
func CheckProof(data []byte, v note.Verifier) (*Proof, error) {
	p, err := ParseProof(data)
	if err != nil {
		return nil, err
	}
	cp, err := OpenCheckpoint([]byte(p.Checkpoint), v)
	if err != nil {
		return nil, err
	}
	switch p.Kind {
	case "inclusion":
		if p.Index >= cp.Size {
			return nil, &Failure{Record: p.Index, Reason: fmt.Sprintf("the checkpoint covers %d records only", cp.Size)}
		}
		if err := tlog.CheckRecord(p.Hashes, cp.Size, cp.Hash, p.Index, tlog.RecordHash([]byte(p.Record))); err != nil {
			return nil, &Failure{Record: p.Index, Reason: "the record is not in the checkpoint's tree: " + err.Error()}
		}
	case "consistency":
		old, err := OpenCheckpoint([]byte(p.Older), v)
		if err != nil {
			return nil, err
		}
		if old.Size > cp.Size {
			return nil, &Failure{Record: cp.Size, Reason: fmt.Sprintf("the older checkpoint covers %d records, the newer %d", old.Size, cp.Size)}
		}
		if err := tlog.CheckTree(p.Hashes, cp.Size, cp.Hash, old.Size, old.Hash); err != nil {
			return nil, &Failure{Record: -1, Reason: "the newer checkpoint does not extend the older one: " + err.Error()}
		}
	}
	return p, nil
}

// For checks that p proves what the auditor asked about, record n: a valid
// proof of another record says nothing about n.
func (p *Proof) For(n int64) error {
	if p.Kind != "inclusion" {
		return &Failure{Record: n, Reason: fmt.Sprintf("this is a %s proof, not a proof that record %d is in the log", p.Kind, n)}
	}
	if p.Index != n {
		return &Failure{Record: n, Reason: fmt.Sprintf("the proof is for record %d, not record %d", p.Index, n)}
	}
	return nil
}

// LatestCheckpoint returns the note of the log's latest checkpoint, for
// publishing elsewhere.
func LatestCheckpoint(path string) ([]byte, error) {
	hr, cp, err := latest(path)
	if err != nil {
		return nil, err
	}
	hr.f.Close()
	return cp.Note, nil
}
