package keys

import (
	"errors"
	"fmt"
	"os"
)

// WriteFiles writes pair as PREFIX.key (mode 0600) and PREFIX.pub (0644).
// It refuses to replace an existing file, and removes the .key it wrote if
// the .pub cannot be written, so a failure leaves nothing half-made.
func WriteFiles(prefix string, pair *Pair) (keyPath, pubPath string, err error) {
	keyPath, pubPath = prefix+".key", prefix+".pub"
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s already exists; refusing to overwrite a key", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", "", err
		}
	}
	if err := writeNew(keyPath, pair.Private, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, pair.Public, 0o644); err != nil {
		os.Remove(keyPath) // ours: created exclusively just above
		return "", "", err
	}
	return keyPath, pubPath, nil
}

// writeNew creates path exclusively: a file that appeared meanwhile is never replaced.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
