package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Write replaces path with data and permissions perm. It writes a temporary
// file in the same directory, syncs it, renames it over path and syncs the
// directory. On error, path is as it was and the temporary file is gone.
func Write(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // ours, created just above; a no-op after the rename
	if err := writeSync(f, data, perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if runtime.GOOS == "windows" {
		return nil // a directory handle cannot be synced there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeSync writes data to f, sets its permissions, syncs and closes it.
func writeSync(f *os.File, data []byte, perm fs.FileMode) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
