package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/engine"
)

// TestOPACheckStrict: opa accepts every built bundle, in both formats, under --strict.
func TestOPACheckStrict(t *testing.T) {
	opa := tool(t, "opa")
	cases, _ := fixtures(t)
	for _, c := range cases {
		for _, tc := range []struct{ format, path string }{{"tar.gz", c.TarGz}, {"dir", c.Dir}} {
			t.Run(c.Name+"/"+tc.format, func(t *testing.T) {
				r := execute(t, nil, opa, "check", "--strict", "--bundle", tc.path)
				if r.code != 0 || len(bytes.TrimSpace(r.stdout)) != 0 {
					t.Errorf("opa check --strict --bundle %s: %s", tc.format, r)
				}
			})
		}
	}
}

// TestOPAFmt: generated Rego is exactly what opa fmt would write.
func TestOPAFmt(t *testing.T) {
	opa := tool(t, "opa")
	cases, _ := fixtures(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var files []string
			for _, n := range c.Bundle.Files.Names() {
				if strings.HasSuffix(n, ".rego") {
					files = append(files, filepath.Join(c.Dir, filepath.FromSlash(n)))
				}
			}
			if len(files) < 3 {
				t.Fatalf("bundle has %d Rego files, want the library, the aggregate and articles", len(files))
			}
			r := execute(t, nil, opa, append([]string{"fmt", "--list", "--fail"}, files...)...)
			if r.code != 0 || len(bytes.TrimSpace(r.stdout)) != 0 {
				diff := execute(t, nil, opa, append([]string{"fmt", "--diff"}, files...)...)
				t.Errorf("opa fmt would change generated Rego: %s\ndiff:\n%s", r, clip(diff.stdout))
			}
		})
	}
}

// TestOPAInspect: opa inspect shows every article's METADATA annotations.
func TestOPAInspect(t *testing.T) {
	opa := tool(t, "opa")
	cases, _ := fixtures(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			out := must(t, opa, "inspect", "-a", "--format", "json", c.TarGz)
			var inspect struct {
				Manifest struct {
					Revision string   `json:"revision"`
					Roots    []string `json:"roots"`
				} `json:"manifest"`
				Annotations []struct {
					Path []struct {
						Value any `json:"value"`
					} `json:"path"`
					Annotations struct {
						Scope  string         `json:"scope"`
						Title  string         `json:"title"`
						Custom map[string]any `json:"custom"`
					} `json:"annotations"`
				} `json:"annotations"`
			}
			if err := json.Unmarshal(out, &inspect); err != nil {
				t.Fatalf("opa inspect output: %v\n%s", err, clip(out))
			}
			if inspect.Manifest.Revision != c.Bundle.Revision() || !slices.Equal(inspect.Manifest.Roots, []string{"charter", "charter_overrides"}) {
				t.Errorf("manifest = %+v, want revision %s and roots [charter charter_overrides]", inspect.Manifest, c.Bundle.Revision())
			}
			byPackage := map[string]int{}
			for i, a := range inspect.Annotations {
				if a.Annotations.Scope != "package" {
					continue
				}
				var parts []string
				for _, p := range a.Path {
					parts = append(parts, fmt.Sprint(p.Value))
				}
				byPackage[strings.Join(parts, ".")] = i
			}
			checked := 0
			for id, art := range c.Bundle.Info.Articles {
				if art.Package == "" {
					continue // runtime-only article: no Rego
				}
				i, ok := byPackage["data."+art.Package]
				if !ok {
					t.Errorf("article %s: no package annotation for data.%s in opa inspect (have %v)", id, art.Package, keys(byPackage))
					continue
				}
				a := inspect.Annotations[i].Annotations
				if a.Title != art.Title {
					t.Errorf("article %s: inspect title %q, want %q", id, a.Title, art.Title)
				}
				for k, want := range map[string]string{"id": id, "severity": art.Severity, "action": art.Action} {
					if got := a.Custom[k]; got != want {
						t.Errorf("article %s: inspect custom.%s = %v, want %q", id, k, got, want)
					}
				}
				checked++
			}
			if checked == 0 {
				t.Errorf("no article annotations checked")
			}
		})
	}
}

// TestOPAEval: opa eval -b BUNDLE data.charter.decision --input X gives the
// engine's decision. Every object is evaluated alone by one charter (round
// robin, one opa process each, which is slow), and every charter decides every
// object in one opa process that evaluates data.charter.decision with each
// input in turn.
func TestOPAEval(t *testing.T) {
	opa := tool(t, "opa")
	cases, objs := fixtures(t)
	t.Run("one input per process", func(t *testing.T) {
		errs := make([]string, len(objs))
		parallel(len(objs), runtime.GOMAXPROCS(0)+1, func(i int) {
			c := cases[i%len(cases)]
			want, err := c.Engine.Decide(context.Background(), objs[i].Value)
			if err != nil {
				errs[i] = fmt.Sprintf("%s: engine: %v", objs[i].ID, err)
				return
			}
			cmd := exec.Command(opa, "eval", "--bundle", c.TarGz, "--input", objs[i].File, "--format", "json", "data.charter.decision")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				errs[i] = fmt.Sprintf("%s with %s: opa eval: %v\n%s", objs[i].ID, c.Name, err, stderr.Bytes())
				return
			}
			values, err := evalValues(out)
			if err != nil || len(values) != 1 {
				errs[i] = fmt.Sprintf("%s with %s: opa eval gave no single decision (%v):\n%s", objs[i].ID, c.Name, err, clip(out))
				return
			}
			errs[i] = compareDecision(objs[i], values[0], want)
		})
		report(t, errs)
	})
	inputs := make([]any, len(objs))
	for i, o := range objs {
		inputs[i] = o.Value
	}
	data, err := json.Marshal(map[string]any{"interop": map[string]any{"inputs": inputs}})
	if err != nil {
		t.Fatal(err)
	}
	dataFile := filepath.Join(t.TempDir(), "inputs.json")
	if err := os.WriteFile(dataFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want := expectations(t, c, objs)
			out := must(t, opa, "eval", "--bundle", c.TarGz, "--data", dataFile, "--format", "json",
				"[d | some x in data.interop.inputs; d := data.charter.decision with input as x]")
			values, err := evalValues(out)
			if err != nil || len(values) != 1 {
				t.Fatalf("opa eval gave no single value (%v):\n%s", err, clip(out))
			}
			var decisions []json.RawMessage
			if err := json.Unmarshal(values[0], &decisions); err != nil || len(decisions) != len(objs) {
				t.Fatalf("opa eval gave %d decisions for %d objects (%v)", len(decisions), len(objs), err)
			}
			errs := make([]string, len(objs))
			for i := range objs {
				errs[i] = compareDecision(objs[i], decisions[i], want[i])
			}
			report(t, errs)
		})
	}
}

// evalValues reads the expression values of opa eval --format json.
func evalValues(out []byte) ([]json.RawMessage, error) {
	var res struct {
		Result []struct {
			Expressions []struct {
				Value json.RawMessage `json:"value"`
			} `json:"expressions"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, err
	}
	var values []json.RawMessage
	for _, r := range res.Result {
		for _, e := range r.Expressions {
			values = append(values, e.Value)
		}
	}
	return values, nil
}

// TestOPAServer: opa run --server --bundle answers the engine's decisions at
// POST /v1/data/charter/decision, for both bundle formats.
func TestOPAServer(t *testing.T) {
	opa := tool(t, "opa")
	cases, objs := fixtures(t)
	for _, c := range cases {
		for _, tc := range []struct{ format, path string }{{"tar.gz", c.TarGz}, {"dir", c.Dir}} {
			t.Run(c.Name+"/"+tc.format, func(t *testing.T) {
				want := expectations(t, c, objs)
				base := startOPA(t, opa, tc.path)
				errs := make([]string, len(objs))
				parallel(len(objs), 4, func(i int) {
					body, err := json.Marshal(map[string]any{"input": objs[i].Value})
					if err != nil {
						errs[i] = err.Error()
						return
					}
					resp, err := httpClient.Post(base+"/v1/data/charter/decision", "application/json", bytes.NewReader(body))
					if err != nil {
						errs[i] = fmt.Sprintf("%s: %v", objs[i].ID, err)
						return
					}
					defer resp.Body.Close()
					var res struct {
						Result json.RawMessage `json:"result"`
					}
					if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
						errs[i] = fmt.Sprintf("%s: HTTP %d: %v", objs[i].ID, resp.StatusCode, err)
						return
					}
					errs[i] = compareDecision(objs[i], res.Result, want[i])
				})
				report(t, errs)
			})
		}
	}
}

// httpClient bounds every request, so a hung server fails the test instead of
// stalling it.
var httpClient = &http.Client{Timeout: time.Minute}

// startOPA starts opa run --server on a free 127.0.0.1 port with the bundle
// ("" for none: the flags configure one) and the further flags, and waits
// until the bundle is activated. The server stops with the test.
func startOPA(t *testing.T, opa, bundle string, flags ...string) string {
	t.Helper()
	var lastErr string
	for attempt := 0; attempt < 3; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		args := []string{"run", "--server", "--addr", addr, "--log-level", "error"}
		if bundle != "" {
			args = append(args, "--bundle", bundle)
		}
		cmd := exec.Command(opa, append(args, flags...)...)
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		base := "http://" + addr
		giveUp := time.Now().Add(2 * time.Minute)
		for done := false; !done; {
			select {
			case <-exited:
				lastErr = fmt.Sprintf("opa run exited: %v\n%s", cmd.ProcessState, logs.String())
				done = true
				continue
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(giveUp) {
				cmd.Process.Kill()
				<-exited
				t.Fatalf("opa run --server never became healthy:\n%s", logs.String())
			}
			resp, err := httpClient.Get(base + "/health?bundles=true")
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(func() {
					cmd.Process.Kill()
					<-exited
				})
				return base
			}
		}
	}
	t.Fatalf("opa run --server did not come up: %s", lastErr)
	return ""
}

// TestCharterEval: charter eval --output json reports the engine's decision
// on every object, from the bundle and from the charter itself.
func TestCharterEval(t *testing.T) {
	bin := cli(t)
	cases, objs := fixtures(t)
	for _, c := range cases {
		for _, tc := range []struct{ name, flag, path string }{{"bundle", "--bundle", c.TarGz}, {"charter", "--charter", c.Path}} {
			t.Run(c.Name+"/"+tc.name, func(t *testing.T) {
				want := expectations(t, c, objs)
				r := execute(t, nil, bin, "eval", tc.flag, tc.path, "--output", "json", corpusDir)
				var out struct {
					Results []struct {
						File       string `json:"file"`
						Index      int    `json:"index"`
						Kind       string `json:"kind"`
						Allowed    bool   `json:"allowed"`
						Violations []struct {
							Article  string `json:"article"`
							Action   string `json:"action"`
							Severity string `json:"severity"`
							Message  string `json:"message"`
						} `json:"violations"`
					} `json:"results"`
				}
				if err := json.Unmarshal(r.stdout, &out); err != nil {
					t.Fatalf("charter eval output: %v\n%s", err, r)
				}
				if wantCode := exitFor(want); r.code != wantCode {
					t.Errorf("charter eval exit %d, want %d: %s", r.code, wantCode, clip(r.stderr))
				}
				if len(out.Results) != len(objs) {
					t.Fatalf("charter eval gave %d results, want one per object (%d)", len(out.Results), len(objs))
				}
				byFile := map[string]int{}
				for i, res := range out.Results {
					if res.Index != 0 {
						t.Errorf("%s: index %d, want 0 (one document per file)", res.File, res.Index)
					}
					byFile[filepath.Base(res.File)] = i
				}
				for i, o := range objs {
					j, ok := byFile[o.Base]
					if !ok {
						t.Errorf("%s: no result for %s", o.ID, o.Base)
						continue
					}
					res := out.Results[j]
					var got, exp []string
					for _, v := range res.Violations {
						got = append(got, strings.Join([]string{v.Article, v.Action, v.Severity, v.Message}, " | "))
					}
					for _, f := range want[i].All() {
						exp = append(exp, strings.Join([]string{f.Article, f.Action, f.Severity, f.Message}, " | "))
					}
					sort.Strings(got)
					sort.Strings(exp)
					if res.Allowed != want[i].Allowed || !slices.Equal(got, exp) {
						t.Errorf("%s: charter eval allowed=%v %q, engine allowed=%v %q", o.ID, res.Allowed, got, want[i].Allowed, exp)
					}
				}
			})
		}
	}
}

// TestConftest: conftest test --policy BUNDLEDIR --namespace charter fails
// exactly the objects charter denies, with the same messages, and warns
// exactly where charter warns.
func TestConftest(t *testing.T) {
	conftest := tool(t, "conftest")
	cases, objs := fixtures(t)
	warned := 0
	defer func() {
		if warned == 0 && !t.Failed() {
			t.Errorf("no charter warned on any object: the test data must exercise warn")
		}
	}()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want := expectations(t, c, objs)
			r := execute(t, nil, conftest, "test", "--policy", c.Dir, "--namespace", "charter", "--output", "json", "--no-color", corpusDir)
			var out []struct {
				FileName  string `json:"filename"`
				Namespace string `json:"namespace"`
				Failures  []struct {
					Msg string `json:"msg"`
				} `json:"failures"`
				Warnings []struct {
					Msg string `json:"msg"`
				} `json:"warnings"`
				Exceptions []json.RawMessage `json:"exceptions"`
			}
			if err := json.Unmarshal(r.stdout, &out); err != nil {
				t.Fatalf("conftest output: %v\n%s", err, r)
			}
			if wantCode := exitFor(want); r.code != wantCode {
				t.Errorf("conftest exit %d, want %d: %s", r.code, wantCode, clip(r.stderr))
			}
			byFile := map[string]int{}
			for i, res := range out {
				if res.Namespace != "charter" {
					t.Errorf("%s: namespace %q, want charter", res.FileName, res.Namespace)
				}
				byFile[filepath.Base(res.FileName)] = i
			}
			if len(out) != len(objs) {
				t.Errorf("conftest gave %d results, want one per object (%d)", len(out), len(objs))
			}
			for i, o := range objs {
				j, ok := byFile[o.Base]
				if !ok {
					t.Errorf("%s: no conftest result for %s", o.ID, o.Base)
					continue
				}
				res := out[j]
				var fails, warns []string
				for _, f := range res.Failures {
					fails = append(fails, f.Msg)
				}
				for _, w := range res.Warnings {
					warns = append(warns, w.Msg)
				}
				wantFails, wantWarns := conftestMessages(want[i].Violations), conftestMessages(want[i].Warnings)
				if len(wantWarns) > 0 {
					warned++
				}
				sort.Strings(fails)
				sort.Strings(warns)
				if !slices.Equal(fails, wantFails) || !slices.Equal(warns, wantWarns) || len(res.Exceptions) != 0 {
					t.Errorf("%s: conftest failures %q warnings %q exceptions %d; charter denies %q warns %q", o.ID, fails, warns, len(res.Exceptions), wantFails, wantWarns)
				}
				if (len(fails) == 0) != want[i].Allowed {
					t.Errorf("%s: conftest fails=%v but charter allowed=%v", o.ID, len(fails) > 0, want[i].Allowed)
				}
			}
		})
	}
}

// conftestMessages is what the bundle's deny and warn rules say for findings:
// "ARTICLE: message", one per distinct text (they are sets).
func conftestMessages(fs []engine.Finding) []string {
	var out []string
	for _, f := range fs {
		m := f.Article + ": " + f.Message
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// TestBuildReproducible: two charter builds of one charter are byte-identical,
// in both formats, and the two formats hold the same files.
func TestBuildReproducible(t *testing.T) {
	bin := cli(t)
	cases, _ := fixtures(t)
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			again := filepath.Join(t.TempDir(), "again.tar.gz")
			againDir := filepath.Join(t.TempDir(), fmt.Sprintf("again-%d", i))
			must(t, bin, "build", "-o", again, c.Path)
			must(t, bin, "build", "--format", "dir", "-o", againDir, c.Path)
			first, err := os.ReadFile(c.TarGz)
			if err != nil {
				t.Fatal(err)
			}
			second, err := os.ReadFile(again)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, second) {
				t.Errorf("two builds differ: %d and %d bytes", len(first), len(second))
			}
			d1, d2 := readTree(t, c.Dir), readTree(t, againDir)
			if !reflect.DeepEqual(d1, d2) {
				t.Errorf("two dir builds differ: %v vs %v", keys(d1), keys(d2))
			}
			f, err := bundles.ReadTarGz(bytes.NewReader(first))
			if err != nil {
				t.Fatal(err)
			}
			fromTar := map[string]string{}
			for n, b := range f {
				fromTar[n] = string(b)
			}
			if !reflect.DeepEqual(fromTar, d1) {
				t.Errorf("tar.gz and dir bundles differ: %v vs %v", keys(fromTar), keys(d1))
			}
		})
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareDecision checks a peer's raw decision against the engine's; it
// returns "" when they agree.
func compareDecision(o *object, raw json.RawMessage, want engine.Decision) string {
	got, err := decodeDecision(raw)
	if err != nil {
		return fmt.Sprintf("%s: %v", o.ID, err)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		return fmt.Sprintf("%s: decision differs\n peer:   %s\n engine: %s", o.ID, g, w)
	}
	return ""
}

// report fails the test with every disagreement, at most 20 of them in full.
func report(t *testing.T, errs []string) {
	t.Helper()
	n := 0
	for _, e := range errs {
		if e == "" {
			continue
		}
		if n < 20 {
			t.Error(e)
		}
		n++
	}
	if n > 0 {
		t.Errorf("%d of %d objects disagree", n, len(errs))
	}
}

// exitFor is the exit code charter and conftest owe for these decisions.
func exitFor(ds []engine.Decision) int {
	for _, d := range ds {
		if !d.Allowed {
			return 1
		}
	}
	return 0
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestSourceFiles: on the shipped test data as written (multi-document YAML,
// parsed by each tool's own YAML reader), conftest fails and warns on each
// file exactly as charter eval does on that file's objects.
func TestSourceFiles(t *testing.T) {
	conftest := tool(t, "conftest")
	bin := cli(t)
	cases, _ := fixtures(t)
	var roots []string
	for _, dir := range corpusRoots {
		if _, err := os.Stat(filepath.Join(root, dir)); err == nil {
			roots = append(roots, filepath.Join(root, dir))
		}
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			r := execute(t, nil, bin, append([]string{"eval", "--bundle", c.TarGz, "--output", "json"}, roots...)...)
			var evalOut struct {
				Results []struct {
					File       string `json:"file"`
					Allowed    bool   `json:"allowed"`
					Violations []struct {
						Article string `json:"article"`
						Action  string `json:"action"`
						Message string `json:"message"`
					} `json:"violations"`
				} `json:"results"`
			}
			if err := json.Unmarshal(r.stdout, &evalOut); err != nil || r.code > 1 {
				t.Fatalf("charter eval: %v\n%s", err, r)
			}
			type verdict struct{ fails, warns []string }
			want := map[string]*verdict{}
			denied := false
			for _, res := range evalOut.Results {
				v := want[abs(res.File)]
				if v == nil {
					v = &verdict{}
					want[abs(res.File)] = v
				}
				var fails, warns []engine.Finding
				for _, f := range res.Violations {
					switch f.Action {
					case "deny":
						fails = append(fails, engine.Finding{Article: f.Article, Message: f.Message})
					case "warn":
						warns = append(warns, engine.Finding{Article: f.Article, Message: f.Message})
					}
				}
				v.fails = append(v.fails, conftestMessages(fails)...)
				v.warns = append(v.warns, conftestMessages(warns)...)
				denied = denied || !res.Allowed
			}
			cr := execute(t, nil, conftest, append([]string{"test", "--policy", c.Dir, "--namespace", "charter", "--output", "json", "--no-color"}, roots...)...)
			var confOut []struct {
				FileName string `json:"filename"`
				Failures []struct {
					Msg string `json:"msg"`
				} `json:"failures"`
				Warnings []struct {
					Msg string `json:"msg"`
				} `json:"warnings"`
			}
			if err := json.Unmarshal(cr.stdout, &confOut); err != nil {
				t.Fatalf("conftest output: %v\n%s", err, cr)
			}
			if wantCode := map[bool]int{true: 1, false: 0}[denied]; cr.code != wantCode || r.code != wantCode {
				t.Errorf("exit codes: conftest %d, charter eval %d, want %d", cr.code, r.code, wantCode)
			}
			seen := map[string]bool{}
			for _, res := range confOut {
				file := abs(res.FileName)
				seen[file] = true
				v, ok := want[file]
				if !ok {
					t.Errorf("%s: conftest checked a file charter eval did not report", file)
					continue
				}
				var fails, warns []string
				for _, f := range res.Failures {
					fails = append(fails, f.Msg)
				}
				for _, w := range res.Warnings {
					warns = append(warns, w.Msg)
				}
				for _, l := range [][]string{fails, warns, v.fails, v.warns} {
					sort.Strings(l)
				}
				if !slices.Equal(fails, v.fails) || !slices.Equal(warns, v.warns) {
					t.Errorf("%s: conftest failures %q warnings %q; charter eval denies %q warns %q", file, fails, warns, v.fails, v.warns)
				}
			}
			for file := range want {
				if !seen[file] {
					t.Errorf("%s: charter eval reported it, conftest did not", file)
				}
			}
		})
	}
}

func abs(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(workDir, p)
	}
	return filepath.Clean(p)
}

// TestOPATest: with --tests, the bundle carries every inline article test as
// Rego, and stock opa test runs them all and passes; the bundle with tests is
// still accepted by opa check --strict and unchanged by opa fmt.
func TestOPATest(t *testing.T) {
	opa := tool(t, "opa")
	bin := cli(t)
	cases, _ := fixtures(t)
	total := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ch, err := charter.Load(c.Path)
			if err != nil {
				t.Fatal(err)
			}
			inline := 0
			for _, a := range ch.Spec.Articles {
				inline += len(a.Tests)
			}
			total += inline
			dir := filepath.Join(t.TempDir(), "bundle")
			must(t, bin, "build", "--tests", "--format", "dir", "-o", dir, c.Path)
			if r := execute(t, nil, opa, "check", "--strict", "--bundle", dir); r.code != 0 {
				t.Errorf("opa check --strict --bundle (with tests): %s", r)
			}
			if r := execute(t, nil, opa, "fmt", "--list", "--fail", dir); r.code != 0 || len(bytes.TrimSpace(r.stdout)) != 0 {
				t.Errorf("opa fmt would change the generated tests: %s", r)
			}
			r := execute(t, nil, opa, "test", "--format", "json", dir)
			var results []struct {
				Package string          `json:"package"`
				Name    string          `json:"name"`
				Fail    bool            `json:"fail"`
				Error   json.RawMessage `json:"error"`
			}
			if err := json.Unmarshal(r.stdout, &results); err != nil {
				if inline == 0 && r.code == 0 {
					return // no tests: opa test has nothing to say
				}
				t.Fatalf("opa test output: %v\n%s", err, r)
			}
			failed := 0
			for _, res := range results {
				if res.Fail || len(res.Error) > 0 && string(res.Error) != "null" {
					t.Errorf("opa test: %s.%s failed: %s", res.Package, res.Name, res.Error)
					failed++
				}
			}
			if len(results) < inline {
				t.Errorf("opa test ran %d tests, the charter has %d inline tests", len(results), inline)
			}
			if (failed > 0) != (r.code != 0) {
				t.Errorf("opa test exit %d with %d failures", r.code, failed)
			}
		})
	}
	if total == 0 {
		t.Errorf("no charter has inline tests")
	}
}
