package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/overrides"
)

// InfoSource is a rule source that can give the compiled charter's info,
// whose council verifies overrides (the agent needs it for --overrides).
type InfoSource interface {
	Info() (compiler.Info, error)
}

// Info compiles the charters and returns their info.
func (s CharterSource) Info() (compiler.Info, error) {
	out, err := compileInfo(s.Paths)
	if err != nil {
		return compiler.Info{}, err
	}
	return out, nil
}

func compileInfo(paths []string) (compiler.Info, error) {
	_, out, err := compiler.CompilePaths(paths)
	if err != nil {
		return compiler.Info{}, fmt.Errorf("compile charter: %w", err)
	}
	return out.Info, nil
}

// IgnoredOverride is an override file that does not count, and why.
type IgnoredOverride struct {
	File  string
	Check overrides.Check // empty: the file could not be read or checked
	Err   error
}

// LoadOverrides reads every override file in dir (*.yaml, *.yml, *.json)
// and verifies each against v, as every enforcement point does. An
// override that is not valid yet is verified at its notBefore, so the
// agent can start its exemption on time; the window itself is checked at
// each exemption refresh (Verified.ActiveAt). Expired, under-approved,
// revoked and malformed ones are returned as ignored.
func LoadOverrides(dir string, v *overrides.Verifier, now time.Time) ([]*overrides.Verified, []IgnoredOverride, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read overrides: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var (
		good    []*overrides.Verified
		ignored []IgnoredOverride
	)
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		path := filepath.Join(dir, name)
		ver, err := verifyFile(path, v, now)
		if err != nil {
			ig := IgnoredOverride{File: path, Err: err}
			var f *overrides.Failure
			if errors.As(err, &f) {
				ig.Check = f.Check
			}
			ignored = append(ignored, ig)
			continue
		}
		good = append(good, ver)
	}
	return good, ignored, nil
}

func verifyFile(path string, v *overrides.Verifier, now time.Time) (*overrides.Verified, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > overrides.MaxDocumentSize {
		return nil, fmt.Errorf("%s: %d bytes; an override is at most %d", path, st.Size(), overrides.MaxDocumentSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d, err := overrides.Parse(data)
	if err != nil {
		return nil, err
	}
	at := now
	if now.Before(d.Spec.NotBefore) {
		at = d.Spec.NotBefore
	}
	return v.Verify(d, at)
}
