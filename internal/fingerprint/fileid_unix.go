//go:build unix

package fingerprint

import (
	"io/fs"
	"strconv"
	"syscall"
)

func fileID(fi fs.FileInfo) string {
	s := strconv.FormatInt(fi.Size(), 10)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s += ":" + strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(st.Ino, 10)
	}
	return s
}
