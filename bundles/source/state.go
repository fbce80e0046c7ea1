package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/internal/atomicfile"
)

// State is a directory holding the last good bundle (bundle.tar.gz) and the
// highest serial ever activated (state.json), written atomically: a crash
// leaves either the old or the new file, never a torn one.
type State struct{ Dir string }

const (
	stateBundle = "bundle.tar.gz"
	stateFile   = "state.json"
)

type stateDoc struct {
	Serial   int64  `json:"serial"`
	Revision string `json:"revision"`
	Source   string `json:"source,omitempty"`
}

// Floor is the persisted serial: nothing lower is accepted, even after a
// restart. 0 when nothing was persisted yet.
func (s State) Floor() (int64, error) {
	doc, err := s.read()
	if err != nil {
		return 0, err
	}
	return doc.Serial, nil
}

func (s State) read() (stateDoc, error) {
	var doc stateDoc
	data, err := os.ReadFile(filepath.Join(s.Dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return doc, nil
	}
	if err != nil {
		return doc, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	name := filepath.Join(s.Dir, stateFile)
	if err := dec.Decode(&doc); err != nil {
		return doc, fmt.Errorf("%s: %w", name, err)
	}
	if dec.More() {
		return doc, fmt.Errorf("%s: data after the JSON document (not what charter writes)", name)
	}
	if doc.Serial < 0 {
		return doc, fmt.Errorf("%s: negative serial %d (not what charter writes)", name, doc.Serial)
	}
	return doc, nil
}

// Bundle reads the persisted bundle's files; nil, nil when there is none.
func (s State) Bundle() (bundles.Files, error) {
	p := filepath.Join(s.Dir, stateBundle)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	files, _, err := bundles.ReadFiles(p)
	return files, err
}

// Save persists the bundle and its serial: the bundle first, then the
// serial, each by write to a temporary file, fsync, rename and a fsync of the
// directory. The floor never goes down.
func (s State) Save(files bundles.Files, serial int64, source string) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	tgz, err := files.TarGz()
	if err != nil {
		return err
	}
	m, err := files.Manifest()
	if err != nil {
		return err
	}
	prev, err := s.read()
	if err != nil {
		return err
	}
	if serial < prev.Serial {
		return fmt.Errorf("state: serial %d is lower than the persisted %d", serial, prev.Serial)
	}
	if err := atomicfile.Write(filepath.Join(s.Dir, stateBundle), tgz, 0o600); err != nil {
		return err
	}
	doc, err := json.MarshalIndent(stateDoc{Serial: serial, Revision: m.Revision, Source: source}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.Dir, stateFile), append(doc, '\n'), 0o600)
}
