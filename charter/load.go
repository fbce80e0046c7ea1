package charter

import (
	"bytes"
	"fmt"
	"github.com/charter-dev/charter/podtemplate"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Load reads the charter at path and follows its includes. Included articles
// come first, in include order; an article id may appear only once.
func Load(path string) (*Charter, error) {
	l := &loader{loading: map[string]bool{}, done: map[string]*Charter{}}
	c := l.load(path, Pos{})
	if c != nil {
		var errs ErrorList
		c, errs = applyOverrides(c)
		l.errs = append(l.errs, errs...)
	}
	return c, l.errs.Err()
}

// Files lists the charter files paths name: files as given, directories
// walked recursively for .yaml/.yml files whose kind is Charter (testdata
// folders and other documents skipped).
func Files(paths []string) ([]string, error) {
	var errs ErrorList
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs.Add(Pos{File: p}, "%v", unwrapPathError(err))
			continue
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := charterFiles(p)
		if err != nil {
			errs.Add(Pos{File: p}, "%v", err)
		}
		if len(found) == 0 && err == nil {
			errs.Add(Pos{File: p}, "no charter files (kind: Charter) in this directory")
		}
		files = append(files, found...)
	}
	return files, errs.Err()
}

// applyOverrides drops every article that another article of c overrides
// (like the Pod Security Admission library's OverrideCheckIDs: a restricted
// check replaces the baseline check it tightens). It returns a copy.
func applyOverrides(c *Charter) (*Charter, ErrorList) {
	var errs ErrorList
	ids := map[string]bool{}
	for _, a := range c.Spec.Articles {
		ids[a.ID] = true
	}
	dropped := map[string]bool{}
	for _, a := range c.Spec.Articles {
		for _, id := range a.Overrides {
			switch {
			case id == a.ID:
				errs.Add(a.Pos, "article %s overrides itself", a.ID)
			case !ids[id]:
				errs.Add(a.Pos, "article %s overrides %q, which this charter does not define", a.ID, id)
			default:
				dropped[id] = true
			}
		}
	}
	if len(dropped) == 0 {
		return c, errs
	}
	out := *c
	out.Spec.Articles = nil
	for _, a := range c.Spec.Articles {
		if !dropped[a.ID] {
			out.Spec.Articles = append(out.Spec.Articles, a)
		}
	}
	return &out, errs
}

// LoadPaths loads every charter named by paths. A directory is walked
// recursively for .yaml/.yml files whose kind is Charter; testdata folders and
// other documents are skipped. The charters are merged into one: an article
// included by several of them counts once.
func LoadPaths(paths []string) (*Charter, error) {
	l := &loader{loading: map[string]bool{}, done: map[string]*Charter{}}
	files, err := Files(paths)
	if err != nil {
		l.errs = append(l.errs, err.(ErrorList)...)
	}
	var all []*Charter
	for _, f := range files {
		if c := l.load(f, Pos{}); c != nil {
			all = append(all, c)
		}
	}
	if len(l.errs) > 0 {
		return nil, l.errs.Err()
	}
	c, err := Merge(all)
	if err != nil {
		return nil, err
	}
	c, errs := applyOverrides(c)
	return c, errs.Err()
}

// Merge combines charters into one. The first charter names the result.
func Merge(all []*Charter) (*Charter, error) {
	if len(all) == 0 {
		return nil, ErrorList{{Msg: "no charter given"}}
	}
	if len(all) == 1 {
		return all[0], nil
	}
	for _, c := range all[1:] {
		// One bundle has one charter-wide scope: charters that disagree on it
		// would narrow each other depending on file order.
		if strings.Join(c.Spec.Scope.Namespaces, ",") != strings.Join(all[0].Spec.Scope.Namespaces, ",") {
			return nil, ErrorList{{Pos: c.Pos, Msg: fmt.Sprintf("scope.namespaces %v differs from %v in %s; charters compiled together must agree on it", c.Spec.Scope.Namespaces, all[0].Spec.Scope.Namespaces, all[0].Pos.File)}}
		}
	}
	out := *all[0]
	out.Spec.Articles = nil
	var names []string
	var errs ErrorList
	seen := map[string]*Article{}
	for _, c := range all {
		names = append(names, c.Metadata.Name)
		for _, a := range c.Spec.Articles {
			if prev, dup := seen[a.ID]; dup {
				if prev.Origin != a.Origin || prev.Pos != a.Pos {
					errs.Add(a.Pos, "duplicate article id %q (first defined at %s)", a.ID, prev.Pos)
				}
				continue
			}
			seen[a.ID] = a
			out.Spec.Articles = append(out.Spec.Articles, a)
		}
		out.Spec.Scope.ExcludeNamespaces = union(out.Spec.Scope.ExcludeNamespaces, c.Spec.Scope.ExcludeNamespaces)
		if c != all[0] {
			var err error
			if out.Spec.PodTemplates, err = mergePodTemplates(out.Spec.PodTemplates, c.Spec.PodTemplates); err != nil {
				errs.Add(c.Pos, "%v", err)
			}
			if out.Spec.CustomKinds, err = mergeCustomKinds(out.Spec.CustomKinds, c.Spec.CustomKinds); err != nil {
				errs.Add(c.Pos, "%v", err)
			}
		}
	}
	out.Metadata.Description = "merged: " + strings.Join(names, ", ")
	return &out, errs.Err()
}

// mergePodTemplates adds b's pod templates to a's: the same template twice
// counts once, two paths for one kind are an error.
func mergePodTemplates(a, b []PodTemplate) ([]PodTemplate, error) {
	out := append([]PodTemplate(nil), a...)
next:
	for _, t := range b {
		for _, u := range out {
			if u.APIGroup == t.APIGroup && u.Kind == t.Kind {
				if u.Path != t.Path {
					return out, fmt.Errorf("pod template of %s is at %q here and at %q (%s)", t.Kind, u.Path, t.Path, t.Pos)
				}
				continue next
			}
		}
		out = append(out, t)
	}
	if _, err := podtemplate.New(templates(out)); err != nil {
		return out, err
	}
	return out, nil
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		found := false
		for _, t := range out {
			found = found || s == t
		}
		if !found {
			out = append(out, s)
		}
	}
	return out
}

type loader struct {
	loading map[string]bool
	done    map[string]*Charter
	errs    ErrorList
}

func (l *loader) load(path string, from Pos) *Charter {
	key, _ := filepath.Abs(path)
	if c, ok := l.done[key]; ok {
		return c
	}
	if l.loading[key] {
		l.errs.Add(from, "include cycle: %s includes itself", path)
		return nil
	}
	l.loading[key] = true
	defer delete(l.loading, key)
	data, err := os.ReadFile(path)
	if err != nil {
		pos := from
		if pos.File == "" {
			pos = Pos{File: path}
		}
		l.errs.Add(pos, "%v", unwrapPathError(err))
		return nil
	}
	c, err := Parse(path, data)
	if err != nil {
		l.errs = append(l.errs, err.(ErrorList)...)
		if c == nil {
			return nil
		}
	}
	l.readCouncilKeys(path, c.Spec.Council)
	l.checkTestFiles(c)
	var included []*Article
	ids := map[string]*Article{}
	for _, inc := range c.Spec.Include {
		if inc.Path == "" {
			continue
		}
		p := inc.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		sub := l.load(p, inc.Pos)
		if sub == nil {
			continue
		}
		for _, a := range sub.Spec.Articles {
			if prev, dup := ids[a.ID]; dup {
				if prev != a {
					l.errs.Add(inc.Pos, "include %s: article id %q is already defined at %s", inc.Path, a.ID, prev.Pos)
				}
				continue
			}
			ids[a.ID] = a
			included = append(included, a)
		}
		c.Spec.Scope.ExcludeNamespaces = union(c.Spec.Scope.ExcludeNamespaces, sub.Spec.Scope.ExcludeNamespaces)
		var err error
		if c.Spec.PodTemplates, err = mergePodTemplates(c.Spec.PodTemplates, sub.Spec.PodTemplates); err != nil {
			l.errs.Add(inc.Pos, "include %s: %v", inc.Path, err)
		}
		if c.Spec.CustomKinds, err = mergeCustomKinds(c.Spec.CustomKinds, sub.Spec.CustomKinds); err != nil {
			l.errs.Add(inc.Pos, "include %s: %v", inc.Path, err)
		}
	}
	var instances []*Article
	for i := range c.Spec.Instances {
		in := &c.Spec.Instances[i]
		if in.Charter == "" || !idPattern.MatchString(in.Name) {
			continue // reported where it is parsed
		}
		p := in.Charter
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		sub := l.load(p, in.Pos)
		if sub == nil {
			continue
		}
		values, ok := bind(sub.Spec.Parameters, in, &l.errs)
		if !ok {
			continue
		}
		bound := instantiate(sub.template, values, in, &l.errs)
		byID := map[string]*Article{}
		for _, a := range bound {
			if prev, dup := ids[a.ID]; dup {
				l.errs.Add(in.Pos, "instance %s: article id %q is already defined at %s", in.Name, a.ID, prev.Pos)
				continue
			}
			ids[a.ID] = a
			byID[a.ID] = a
			instances = append(instances, a)
		}
		for _, t := range in.Tests {
			a, ok := byID[t.Article]
			if !ok {
				l.errs.Add(t.Pos, "instance %s: test %q names article %q, which the instance does not define (its articles: %s)", in.Name, t.Test.Name, t.Article, strings.Join(sortedKeys(byID), ", "))
				continue
			}
			a.Tests = append(a.Tests, t.Test)
		}
		c.Spec.Scope.ExcludeNamespaces = union(c.Spec.Scope.ExcludeNamespaces, sub.Spec.Scope.ExcludeNamespaces)
		var err error
		if c.Spec.PodTemplates, err = mergePodTemplates(c.Spec.PodTemplates, sub.Spec.PodTemplates); err != nil {
			l.errs.Add(in.Pos, "instance %s: %v", in.Name, err)
		}
		if c.Spec.CustomKinds, err = mergeCustomKinds(c.Spec.CustomKinds, sub.Spec.CustomKinds); err != nil {
			l.errs.Add(in.Pos, "instance %s: %v", in.Name, err)
		}
	}
	// The charter's own articles may name the kinds its includes declare;
	// included and instantiated ones were checked where they are written.
	checkKinds(&c.Spec, c.Spec.Articles, &l.errs)
	for _, a := range c.Spec.Articles {
		if prev, dup := ids[a.ID]; dup {
			l.errs.Add(a.Pos, "article id %q is already defined by an include or instance at %s", a.ID, prev.Pos)
		}
	}
	c.template = append(append(included, instances...), c.Spec.Articles...)
	c.Spec.Articles = c.template
	if len(c.Spec.Parameters) > 0 {
		// By itself, the charter is its own instance with the defaults; with a
		// parameter without one it decides nothing until instantiated.
		c.Spec.Articles = nil
		if values, ok := bind(c.Spec.Parameters, nil, &l.errs); ok {
			c.Spec.Articles = instantiate(c.template, values, nil, &l.errs)
		}
	}
	l.done[key] = c
	return c
}

// checkTestFiles reports each test file: that does not exist (or is not a
// regular file) where the charter names it, rather than when the test runs.
func (l *loader) checkTestFiles(c *Charter) {
	for _, a := range c.Spec.Articles {
		for _, t := range a.Tests {
			if t.File == "" {
				continue
			}
			fi, err := os.Stat(t.File)
			switch {
			case err != nil:
				a.Invalid = true
				l.errs.Add(t.FilePos, "test %q: file %s: %v", t.Name, t.File, unwrapPathError(err))
			case !fi.Mode().IsRegular():
				a.Invalid = true
				l.errs.Add(t.FilePos, "test %q: file %s is not a regular file", t.Name, t.File)
			}
		}
	}
}

// maxKeyFile bounds a council key file: a PEM public key is a few hundred bytes.
const maxKeyFile = 64 << 10

// readCouncilKeys reads each council key file, relative to the charter that
// names it, so the compiler can embed the keys themselves in the bundle.
func (l *loader) readCouncilKeys(path string, c *Council) {
	if c == nil {
		return
	}
	for i := range c.Keys {
		k := &c.Keys[i]
		p := k.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			l.errs.Add(k.Pos, "council key %s: %v", k.Path, unwrapPathError(err))
			continue
		case !fi.Mode().IsRegular():
			l.errs.Add(k.Pos, "council key %s is not a regular file", k.Path)
			continue
		case fi.Size() > maxKeyFile:
			l.errs.Add(k.Pos, "council key %s is %d bytes; a public key file is at most %d", k.Path, fi.Size(), maxKeyFile)
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			l.errs.Add(k.Pos, "council key %s: %v", k.Path, unwrapPathError(err))
			continue
		}
		k.PEM = data
	}
}

// charterFiles lists the charter files below dir, sorted.
func charterFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if p != dir && (e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(p)
		if ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if IsCharter(data) {
			out = append(out, p)
		} else if bytes.Contains(data, []byte("apiVersion: "+strings.Split(APIVersion, "/")[0])) {
			// A charter whose kind is mistyped must not vanish from a directory.
			return fmt.Errorf("%s: apiVersion %s but not kind: Charter", p, APIVersion)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// IsCharter reports whether data looks like a Charter document, without parsing it whole.
func IsCharter(data []byte) bool {
	for _, line := range bytes.Split(data, []byte("\n")) {
		if t := bytes.TrimSpace(line); bytes.HasPrefix(line, []byte("kind:")) {
			return strings.Trim(strings.TrimSpace(string(t[len("kind:"):])), `"'`) == Kind
		}
	}
	return false
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return fmt.Errorf("%s: %v", pe.Op, pe.Err)
	}
	return err
}
