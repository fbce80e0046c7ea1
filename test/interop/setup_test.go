package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/test/bench"
	"gopkg.in/yaml.v3"
)

var (
	root       string // repository root
	workDir    string // scratch space of this test run
	charterBin string // charter CLI built from this checkout
	charterErr error  // why charterBin could not be built
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	var err error
	if root, err = repoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 2
	}
	if workDir, err = os.MkdirTemp("", "charter-interop-"); err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 2
	}
	defer os.RemoveAll(workDir)
	// Build the CLI from this checkout, so a stale bin/charter never hides a change.
	charterBin = filepath.Join(workDir, "charter")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-o", charterBin, "./cmd/charter")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		charterErr = fmt.Errorf("go build ./cmd/charter: %v\n%s", err, out)
	}
	return m.Run()
}

// repoRoot walks up from the test's directory to the main module's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/charter-dev/charter\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (go.mod of github.com/charter-dev/charter)")
		}
		dir = parent
	}
}

// tool returns the path of a peer tool in bin/, failing the test when it is
// missing: CI builds the tools first, so a missing tool is never a skip.
func tool(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(root, "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing: run `make tools` first (builds the pinned opa, conftest and staticcheck from tools/ into bin/)", p)
	}
	return p
}

func cli(t testing.TB) string {
	t.Helper()
	if charterErr != nil {
		t.Fatal(charterErr)
	}
	return charterBin
}

// result is one finished process.
type result struct {
	stdout, stderr []byte
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, clip(r.stdout), clip(r.stderr))
}

func clip(b []byte) string {
	if len(b) > 4000 {
		return string(b[:4000]) + "\n[...]"
	}
	return string(b)
}

// execute runs a command to completion. Only a failure to start it fails the
// test; the exit code is the caller's to judge.
func execute(t testing.TB, stdin io.Reader, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = workDir
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return result{stdout.Bytes(), stderr.Bytes(), 0}
	case errors.As(err, &exit):
		return result{stdout.Bytes(), stderr.Bytes(), exit.ExitCode()}
	default:
		t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
		return result{}
	}
}

// must runs a command that has to succeed.
func must(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	r := execute(t, nil, name, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: %s", filepath.Base(name), strings.Join(args, " "), r)
	}
	return r.stdout
}

// charterCase is one shipped charter, built by the CLI in both bundle formats.
type charterCase struct {
	Name   string // path relative to the repository root
	Path   string
	TarGz  string
	Dir    string
	Bundle *bundles.Bundle
	Engine *engine.Engine
}

// object is one input of the corpus: a document of the shipped test data,
// raw or wrapped in an AdmissionReview, stored as its own JSON file so every
// tool reads exactly the same bytes and its verdict maps to one object.
type object struct {
	ID    string // source file#index and wrapping, for messages
	File  string // path of the JSON file in the corpus directory
	Base  string // file name in the corpus directory
	Value any    // decoded with json.Number, as the engine's input
}

var (
	setupOnce sync.Once
	setupErr  error
	charters  []*charterCase
	corpus    []*object
	corpusDir string
)

// fixtures builds every charter and the corpus once per run.
func fixtures(t testing.TB) ([]*charterCase, []*object) {
	t.Helper()
	bin := cli(t)
	setupOnce.Do(func() { setupErr = setup(t, bin) })
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return charters, corpus
}

func setup(t testing.TB, bin string) error {
	paths, err := charterPaths()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(workDir, "bundles"), 0o755); err != nil {
		return err
	}
	for i, p := range paths {
		rel, err := filepath.Rel(root, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			rel = filepath.Base(p)
		}
		c := &charterCase{
			Name:  filepath.ToSlash(rel),
			Path:  p,
			TarGz: filepath.Join(workDir, "bundles", fmt.Sprintf("%d.tar.gz", i)),
			Dir:   filepath.Join(workDir, "bundles", fmt.Sprintf("%d", i)),
		}
		for _, args := range [][]string{
			{"build", "-o", c.TarGz, p},
			{"build", "--format", "dir", "-o", c.Dir, p},
		} {
			if r := execute(t, nil, bin, args...); r.code != 0 {
				return fmt.Errorf("charter %s: %s", strings.Join(args, " "), r)
			}
		}
		if c.Bundle, err = bundles.ReadFile(c.TarGz); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		if c.Engine, err = engine.New(context.Background(), c.Bundle); err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		charters = append(charters, c)
	}
	corpusDir = filepath.Join(workDir, "corpus")
	return loadCorpus(t)
}

// charterPaths lists the shipped charters and the engine's example charter.
func charterPaths() ([]string, error) {
	var out []string
	for _, pattern := range []string{"policies/*.yaml", "policies/*.yml"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	out = append(out, filepath.Join(root, "engine", "testdata", "charter.yaml"))
	// The benchmark's generated charter uses every construct of the language,
	// including some no shipped charter uses (rego hatches, globs on annotations).
	generated := filepath.Join(workDir, "generated-charter.yaml")
	if err := os.WriteFile(generated, bench.Charter(24), 0o644); err != nil {
		return nil, err
	}
	return append(out, generated), nil
}

// corpusRoots are the directories of shipped test data and example
// objects. Not examples/ as a whole: examples/ci holds CI pipeline files,
// YAML documents without kind that charter eval rightly refuses as input.
var corpusRoots = []string{"policies/testdata", "examples/manifests", "examples/charters"}

func loadCorpus(t testing.TB) error {
	if err := os.MkdirAll(corpusDir, 0o755); err != nil {
		return err
	}
	var sources []string
	for _, dir := range corpusRoots {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == filepath.Join(root, dir) {
				return filepath.SkipDir
			}
			if err != nil {
				return err
			}
			switch filepath.Ext(p) {
			case ".yaml", ".yml", ".json":
				sources = append(sources, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	sort.Strings(sources)
	for _, src := range sources {
		rel, _ := filepath.Rel(root, src)
		rel = filepath.ToSlash(rel)
		docs, err := readDocs(src)
		if err != nil {
			// Deliberately malformed inputs (for validation tests) are not objects.
			t.Logf("corpus: skipping %s: %v", rel, err)
			continue
		}
		for i, doc := range docs {
			if doc == nil {
				continue
			}
			id := fmt.Sprintf("%s#%d", rel, i)
			variants := []struct {
				suffix string
				value  map[string]any
			}{{"", doc}}
			if doc["kind"] != "AdmissionReview" {
				variants = append(variants,
					struct {
						suffix string
						value  map[string]any
					}{" (AdmissionReview CREATE)", review("CREATE", len(corpus), doc)},
					struct {
						suffix string
						value  map[string]any
					}{" (AdmissionReview DELETE)", review("DELETE", len(corpus), doc)},
				)
			}
			for _, v := range variants {
				if err := addObject(id+v.suffix, v.value); err != nil {
					return err
				}
			}
		}
	}
	if len(corpus) == 0 {
		return fmt.Errorf("no test data found under %v", corpusRoots)
	}
	t.Logf("corpus: %d objects (raw and as AdmissionReview CREATE/DELETE) from %d files under %v; %d charters", len(corpus), len(sources), corpusRoots, len(charters))
	return nil
}

// readDocs decodes every document of a YAML or JSON file; nil marks an empty
// document or one that is not a mapping.
func readDocs(p string) ([]map[string]any, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		m, _ := v.(map[string]any)
		if m != nil {
			// Only JSON-compatible documents are Kubernetes objects.
			if _, err := json.Marshal(m); err != nil {
				return nil, err
			}
		}
		docs = append(docs, m)
	}
}

// review wraps an object in the AdmissionReview an API server would send.
func review(op string, n int, obj map[string]any) map[string]any {
	meta, _ := obj["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	name, _ := meta["name"].(string)
	if ns == "" {
		ns = "default"
	}
	group, version := "", ""
	if av, ok := obj["apiVersion"].(string); ok {
		if g, v, found := strings.Cut(av, "/"); found {
			group, version = g, v
		} else {
			version = av
		}
	}
	req := map[string]any{
		"uid":       fmt.Sprintf("interop-%d", n),
		"kind":      map[string]any{"group": group, "version": version, "kind": obj["kind"]},
		"operation": op,
		"namespace": ns,
		"name":      name,
		"userInfo":  map[string]any{"username": "interop"},
	}
	if op == "DELETE" {
		req["oldObject"] = obj
	} else {
		req["object"] = obj
	}
	return map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}
}

func addObject(id string, v map[string]any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	base := fmt.Sprintf("%05d.json", len(corpus))
	p := filepath.Join(corpusDir, base)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		return err
	}
	corpus = append(corpus, &object{ID: id, File: p, Base: base, Value: value})
	return nil
}

// decide is the oracle: the embedded engine's decision.
func decide(t testing.TB, c *charterCase, o *object) engine.Decision {
	t.Helper()
	d, err := c.Engine.Decide(context.Background(), o.Value)
	if err != nil {
		t.Fatalf("%s on %s: engine: %v", c.Name, o.ID, err)
	}
	return d
}

// expectations computes the oracle's decision for every charter and object.
func expectations(t testing.TB, c *charterCase, objs []*object) []engine.Decision {
	t.Helper()
	out := make([]engine.Decision, len(objs))
	denied, allowed := 0, 0
	for i, o := range objs {
		out[i] = decide(t, c, o)
		if out[i].Allowed {
			allowed++
		} else {
			denied++
		}
	}
	// Agreement on a corpus with one verdict only would prove little.
	if denied == 0 || allowed == 0 {
		t.Fatalf("%s: corpus of %d objects gives %d denied and %d allowed; the test data must exercise both", c.Name, len(objs), denied, allowed)
	}
	return out
}

// decodeDecision reads a data.charter.decision document strictly.
func decodeDecision(raw json.RawMessage) (engine.Decision, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return engine.Decision{}, err
	}
	for k := range keys {
		switch k {
		case "allowed", "violations", "warnings", "audits", "overridden":
		default:
			return engine.Decision{}, fmt.Errorf("unexpected decision key %q", k)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d engine.Decision
	if err := dec.Decode(&d); err != nil {
		return d, err
	}
	if d.Violations == nil || d.Warnings == nil || d.Audits == nil || d.Overridden == nil {
		return d, fmt.Errorf("decision lacks a findings list: %s", raw)
	}
	return d, nil
}

// parallel runs f(i) for i < n on a few workers.
func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
