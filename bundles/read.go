package bundles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// MaxSize bounds a bundle's uncompressed content, so a hostile archive cannot exhaust memory.
const MaxSize = 256 << 20

// Bundle is a read bundle: its raw files, manifest, charter info, and the
// parsed OPA bundle ready for the engine.
type Bundle struct {
	Files    Files
	Manifest Manifest
	Info     compiler.Info
	// Program is data.charter.program as written (see package program/v1):
	// the engine decodes it and refuses versions it does not know. Empty for
	// bundles without one: OPA evaluates everything.
	Program json.RawMessage
	OPA     *bundle.Bundle
}

// Revision is the manifest revision (the content digest for charter bundles).
func (b *Bundle) Revision() string { return b.Manifest.Revision }

// ReadFile reads a bundle from a .tar.gz file or a directory.
func ReadFile(p string) (*Bundle, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		files, err := readDir(p)
		if err != nil {
			return nil, fmt.Errorf("read bundle %s: %w", p, err)
		}
		return Parse(files)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	files, err := ReadTarGz(f)
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", p, err)
	}
	return Parse(files)
}

// ReadTarGz reads the files of a gzipped tarball.
func ReadTarGz(r io.Reader) (Files, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a gzip archive: %w", err)
	}
	tr := tar.NewReader(gz)
	files := Files{}
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, checkArchiveEnd(gz)
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeDir {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("entry %s: only regular files are allowed", hdr.Name)
		}
		name, err := cleanName(hdr.Name)
		if err != nil {
			return nil, err
		}
		if _, dup := files[name]; dup {
			return nil, fmt.Errorf("entry %s appears twice", name)
		}
		total += hdr.Size
		if total > MaxSize {
			return nil, fmt.Errorf("bundle larger than %d bytes", MaxSize)
		}
		data, err := io.ReadAll(io.LimitReader(tr, hdr.Size+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		files[name] = data
	}
}

// maxArchivePadding bounds what may follow the tar end-of-archive marker
// inside the gzip stream: GNU tar pads to a 10 KiB record.
const maxArchivePadding = 64 << 10

// checkArchiveEnd reads the gzip stream to its end, after the tar reader
// stopped at the end-of-archive marker: only then does gzip check its
// length and CRC, so a truncated or corrupted download is caught rather
// than taken for a whole one. What follows the marker must be zero padding:
// entries hidden after it are read by some tar readers (tar -i) and not by
// others.
func checkArchiveEnd(gz io.Reader) error {
	rest, err := io.ReadAll(io.LimitReader(gz, maxArchivePadding+1))
	if err != nil {
		return fmt.Errorf("read archive: the gzip stream is truncated or corrupt after the last entry: %w", err)
	}
	if len(rest) > maxArchivePadding {
		return fmt.Errorf("read archive: more than %d bytes follow the end of the tar archive", maxArchivePadding)
	}
	for _, b := range rest {
		if b != 0 {
			return fmt.Errorf("read archive: data follows the end of the tar archive (hidden entries?)")
		}
	}
	return nil
}

func cleanName(n string) (string, error) {
	c := path.Clean("/" + n)[1:]
	if c == "" || c == "." || strings.HasPrefix(c, "../") || strings.Contains(n, "..") {
		return "", fmt.Errorf("entry %q: bad path", n)
	}
	return c, nil
}

// Parse checks the files form a charter bundle and parses its Rego.
func Parse(files Files) (*Bundle, error) {
	b := &Bundle{Files: files}
	var err error
	if b.Manifest, err = files.Manifest(); err != nil {
		return nil, err
	}
	// A charter revision is the content digest: a bundle whose files were
	// changed after the build must not enforce under the old name.
	if strings.HasPrefix(b.Manifest.Revision, "sha256:") {
		if got := files.digest(); got != b.Manifest.Revision {
			return nil, fmt.Errorf("bundle content does not match its revision: manifest says %s, files hash to %s", b.Manifest.Revision, got)
		}
	}
	if data, ok := files["data.json"]; ok {
		var doc struct {
			Charter struct {
				Info    compiler.Info   `json:"info"`
				Program json.RawMessage `json:"program"`
			} `json:"charter"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("bad data.json: %w", err)
		}
		b.Info = doc.Charter.Info
		b.Program = doc.Charter.Program
	}
	tgz, err := files.TarGz()
	if err != nil {
		return nil, err
	}
	ob, err := bundle.NewCustomReader(bundle.NewTarballLoaderWithBaseURL(bytes.NewReader(tgz), "")).
		WithRegoVersion(ast.RegoV1).
		WithSkipBundleVerification(true).
		Read()
	if err != nil {
		return nil, fmt.Errorf("parse bundle: %w", err)
	}
	b.OPA = &ob
	return b, nil
}

// Compile builds the bundle of a compiled charter in memory.
func Compile(out *compiler.Output) (*Bundle, error) {
	files, err := FromOutput(out)
	if err != nil {
		return nil, err
	}
	return Parse(files)
}

// FromCharters loads, compiles and bundles the charters named by paths, in
// memory: what --charter means everywhere a bundle is accepted.
func FromCharters(paths []string) (*Bundle, *charter.Charter, error) {
	c, out, err := compiler.CompilePaths(paths)
	if err != nil {
		return nil, nil, err
	}
	b, err := Compile(out)
	if err != nil {
		return nil, nil, err
	}
	return b, c, nil
}
