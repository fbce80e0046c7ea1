package source

import (
	"path"
	"strings"

	"github.com/charter-dev/charter/bundles"
)

// charterPart is what a charter directory is made of, as charter.LoadPaths
// walks it: .yaml and .yml files outside hidden and testdata directories. It
// and bundlePart are the keep functions of fingerprint.Files.
func charterPart(rel string, dir bool) bool {
	if dir {
		name := path.Base(rel)
		return name != "testdata" && !strings.HasPrefix(name, ".")
	}
	switch strings.ToLower(path.Ext(rel)) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

// bundlePart is what a bundle directory is made of.
func bundlePart(rel string, dir bool) bool { return dir || bundles.IsBundleFile(rel) }
