package bundles

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/charter-dev/charter/compiler"
)

// Files is a bundle's content: bundle-relative path to bytes.
type Files map[string][]byte

// Manifest is the bundle's .manifest.
type Manifest struct {
	Revision     string         `json:"revision"`
	Roots        []string       `json:"roots"`
	RegoVersion  int            `json:"rego_version"`
	Metadata     map[string]any `json:"metadata,omitempty"`
	WasmResolver []any          `json:"-"`
}

// FromOutput lays out a compiled charter as bundle files, with a manifest
// whose revision is the SHA-256 of every other file.
func FromOutput(out *compiler.Output) (Files, error) {
	files := Files{}
	for name, src := range out.Modules {
		files[name] = []byte(src)
	}
	doc := map[string]any{"info": out.Info}
	if out.Program != nil {
		doc["program"] = out.Program
	}
	data, err := json.MarshalIndent(map[string]any{"charter": doc}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode data.json: %w", err)
	}
	files["data.json"] = append(data, '\n')
	m := Manifest{
		Revision: files.digest(),
		// The bundle owns the overrides root too, though it ships nothing
		// there: OPA then refuses writes to it through its REST API, and
		// activation erases whatever data a caller put there, so only a
		// loader that verifies overrides (charter's) can fill it.
		Roots:       []string{"charter", compiler.OverridesRoot},
		RegoVersion: 1,
		Metadata: map[string]any{"charter": map[string]any{
			"name":    out.Info.Name,
			"version": out.Info.Version,
		}},
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	files[".manifest"] = append(manifest, '\n')
	return files, nil
}

// Names returns the file names in bundle order: .manifest first, then sorted.
func (f Files) Names() []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == ".manifest") != (names[j] == ".manifest") {
			return names[i] == ".manifest"
		}
		return names[i] < names[j]
	})
	return names
}

// digest hashes names and contents of every file but the manifest.
func (f Files) digest() string {
	h := sha256.New()
	for _, n := range f.Names() {
		if n == ".manifest" || isSignature(n) {
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(f[n]))
		h.Write(f[n])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func isSignature(name string) bool { return name == ".signatures.json" }

// epoch is the modification time of every entry: builds must not depend on the clock.
var epoch = time.Unix(0, 0).UTC()

// TarGz writes the files as a gzipped tarball, byte-identical for identical files.
func (f Files) TarGz() ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	gz.ModTime = epoch
	tw := tar.NewWriter(gz)
	for _, n := range f.Names() {
		hdr := &tar.Header{
			Name:     n,
			Mode:     0o644,
			Size:     int64(len(f[n])),
			ModTime:  epoch,
			Typeflag: tar.TypeReg,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("write %s: %w", n, err)
		}
		if _, err := tw.Write(f[n]); err != nil {
			return nil, fmt.Errorf("write %s: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Manifest decodes the .manifest file.
func (f Files) Manifest() (Manifest, error) {
	var m Manifest
	data, ok := f[".manifest"]
	if !ok {
		return m, fmt.Errorf("bundle has no .manifest")
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("bad .manifest: %w", err)
	}
	return m, nil
}
