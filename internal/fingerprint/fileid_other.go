//go:build !unix

package fingerprint

import (
	"io/fs"
	"strconv"
)

func fileID(fi fs.FileInfo) string { return strconv.FormatInt(fi.Size(), 10) }
