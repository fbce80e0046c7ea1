package bundles

import (
	"bytes"
	"fmt"
	"os"
)

// ReadFiles reads the files of a .tar.gz bundle or a bundle directory
// without judging them (no manifest, revision or Rego check), for a
// verifier that must see a tampered bundle as it is. For a tarball it also
// returns the raw bytes, which a sigstore bundle signs.
func ReadFiles(p string) (Files, []byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, nil, err
	}
	if fi.IsDir() {
		files, err := readDir(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read bundle %s: %w", p, err)
		}
		return files, nil, nil
	}
	if fi.Size() > MaxSize {
		return nil, nil, fmt.Errorf("read bundle %s: larger than %d bytes", p, MaxSize)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, err
	}
	files, err := ReadTarGz(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("read bundle %s: %w", p, err)
	}
	return files, data, nil
}
