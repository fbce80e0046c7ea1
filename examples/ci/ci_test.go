package ci

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/bundles/oci/ocitest"
	"github.com/charter-dev/charter/report/reporttest"
	"golang.org/x/mod/modfile"
)

// The example repository's manifests: real samples from examples/manifests.
var (
	passingManifests = []string{"01-checkout-compliant.yaml", "07-kube-system-pod.yaml", "09-warnings-only.yaml"}
	deniedManifests  = []string{"02-privileged-daemonset.yaml", "03-latest-pod.yaml"}
	warnedManifest   = "09-warnings-only.yaml" // allowed, with a warning (conftest's JUnit lists it as a failure)
)

// failure is how a job is expected to fail: the entry whose command holds
// command, with this exit code.
type failure struct {
	command string
	code    int
}

// scenario is one pipeline run: where the bundle comes from, what deploy/
// holds, which jobs run and which fail.
type scenario struct {
	name      string
	bundle    func(f *fixture) string // CHARTER_BUNDLE, a repository / project variable
	manifests []string
	roles     []string
	fail      map[string]failure // role -> expected failure; a role not here must pass
}

var scenarios = []scenario{
	{
		name:      "compliant manifests, bundle pulled from OCI",
		bundle:    func(f *fixture) string { return f.ref },
		manifests: passingManifests,
		roles:     []string{"test", "gate", "conftest"},
	},
	{
		name:      "denied manifests, bundle file",
		bundle:    func(*fixture) string { return "policy-bundle/anti-delos.tar.gz" },
		manifests: append(append([]string{}, passingManifests...), deniedManifests...),
		roles:     []string{"gate", "conftest"},
		fail: map[string]failure{
			"gate":     {"charter eval --bundle bundle.tar.gz", 1},
			"conftest": {"conftest test", 1},
		},
	},
	{
		name:      "tampered bundle file",
		bundle:    func(*fixture) string { return "policy-bundle/tampered.tar.gz" },
		manifests: passingManifests,
		roles:     []string{"gate", "conftest"},
		fail: map[string]failure{
			"gate":     {"charter bundle verify", 1},
			"conftest": {"charter bundle verify", 1},
		},
	},
}

// example is one CI system's example file and how to run its jobs.
type example struct {
	name  string
	file  string            // relative to examples/ci
	roles map[string]string // role -> job name; every job of the file has a role
	jobs  func(t *testing.T) []string
	run   func(t *testing.T, r *runner, job string) *jobRun
	// reports are the files the CI system picks up, per role.
	reports map[string]string
}

func examples(t *testing.T) []example {
	wf, err := loadWorkflow(filepath.Join("github", "charter.yml"))
	if err != nil {
		t.Fatal(err)
	}
	gl, err := loadGitLab(filepath.Join("gitlab", ".gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return []example{
		{
			name:    "github",
			file:    "github/charter.yml",
			roles:   map[string]string{"test": "charter-test", "gate": "gate", "conftest": "conftest"},
			jobs:    func(*testing.T) []string { return wf.jobNames() },
			run:     func(t *testing.T, r *runner, job string) *jobRun { return r.runGitHubJob(t, wf, job) },
			reports: map[string]string{"gate": "charter.sarif"},
		},
		{
			name:    "gitlab",
			file:    "gitlab/.gitlab-ci.yml",
			roles:   map[string]string{"test": "charter-test", "gate": "charter-gate", "conftest": "conftest-gate"},
			jobs:    func(*testing.T) []string { return gl.jobNames() },
			run:     func(t *testing.T, r *runner, job string) *jobRun { return r.runGitLabJob(t, gl, job) },
			reports: map[string]string{"gate": "charter-junit.xml", "conftest": "conftest-junit.xml"},
		},
	}
}

// TestExamples runs every job of each example in each scenario, and fails
// when a shell step of an example never ran.
func TestExamples(t *testing.T) {
	exs := examples(t)
	f := newFixture(t)
	for _, ex := range exs {
		t.Run(ex.name, func(t *testing.T) {
			var roleJobs []string
			for _, j := range ex.roles {
				roleJobs = append(roleJobs, j)
			}
			sort.Strings(roleJobs)
			if got := ex.jobs(t); strings.Join(got, " ") != strings.Join(roleJobs, " ") {
				t.Fatalf("%s has jobs %v; the test knows %v: give each job a role and scenarios", ex.file, got, roleJobs)
			}
			shell := map[string]bool{} // shell entries seen, and whether one ran
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					r := f.runner(t, sc)
					for _, role := range sc.roles {
						job := ex.roles[role]
						t.Run(job, func(t *testing.T) {
							run := ex.run(t, r, job)
							t.Logf("%s: %s\n%s", ex.file, job, run.Log.String())
							for _, e := range run.Entries {
								switch e.State {
								case stateRan, stateSkipped, stateNotReached:
									shell[e.ID] = shell[e.ID] || e.State == stateRan
								case stateHosted:
									t.Logf("skipped %s (%s): %s", e.ID, e.Command, e.Note)
								}
							}
							checkOutcome(t, run, sc.fail[role])
							checkReports(t, sc, role, run, ex.reports[role])
						})
					}
				})
			}
			var never []string
			for id, ran := range shell {
				if !ran {
					never = append(never, id)
				}
			}
			sort.Strings(never)
			if len(never) > 0 {
				t.Errorf("%s: these shell steps never ran in any scenario, so nothing proves they work: %v", ex.file, never)
			}
			if len(shell) == 0 {
				t.Errorf("%s: no shell step found", ex.file)
			}
		})
	}
}

// checkOutcome: the job passes, or fails exactly at the expected command
// with the expected exit code, every earlier shell entry having passed.
func checkOutcome(t *testing.T, run *jobRun, want failure) {
	t.Helper()
	if want.command == "" {
		if !run.succeeded() {
			t.Errorf("%s failed at %s (exit %d), want it to pass", run.Job, run.FailedAt.ID, run.FailedAt.Code)
		}
		return
	}
	if run.succeeded() {
		t.Errorf("%s passed, want it to fail at %q with exit %d", run.Job, want.command, want.code)
		return
	}
	if !strings.Contains(run.FailedAt.Command, want.command) || run.FailedAt.Code != want.code {
		t.Errorf("%s failed at %s (%s) with exit %d, want %q with exit %d", run.Job, run.FailedAt.ID, firstLine(run.FailedAt.Command), run.FailedAt.Code, want.command, want.code)
	}
	if want.command == "charter bundle verify" {
		// Nothing may decide anything with a bundle that failed verification.
		if _, err := os.Stat(filepath.Join(run.Workspace, "bundle.tar.gz")); err == nil {
			t.Errorf("%s: bundle.tar.gz exists although verification failed", run.Job)
		}
		if len(run.Artifacts) > 0 {
			t.Errorf("%s: reports %v were written from a bundle that failed verification", run.Job, keys(run.Artifacts))
		}
	}
}

// checkReports: the report the CI system picks up exists, is valid in its
// format, and names exactly the objects that charter denies.
func checkReports(t *testing.T, sc scenario, role string, run *jobRun, report string) {
	t.Helper()
	failed := sc.fail[role].command
	if failed == "charter bundle verify" {
		return
	}
	denied := map[string]bool{}
	for _, m := range sc.manifests {
		for _, d := range deniedManifests {
			if m == d {
				denied["deploy/"+m] = true
			}
		}
	}
	if report == "" {
		// GitHub's conftest job reports through workflow commands in the
		// log, which GitHub turns into annotations.
		got := fileSet(regexp.MustCompile(`(?m)^::error file=([^,]+),`), run.Log.String())
		if !sameSet(got, denied) {
			t.Errorf("%s: ::error annotations for %v, want %v", run.Job, keys(got), keys(denied))
		}
		return
	}
	data, ok := run.Artifacts[report]
	if !ok {
		t.Errorf("%s: %s is not picked up by the CI system (missing: %v)", run.Job, report, run.Missing)
		return
	}
	switch {
	case strings.HasSuffix(report, ".sarif"):
		reporttest.ValidateSARIF(t, data)
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID    string `json:"ruleId"`
					Level     string `json:"level"`
					Locations []struct {
						Physical struct {
							Artifact struct {
								URI string `json:"uri"`
							} `json:"artifactLocation"`
						} `json:"physicalLocation"`
					} `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(data, &log); err != nil {
			t.Fatal(err)
		}
		errs := map[string]bool{}
		for _, r := range log.Runs {
			for _, res := range r.Results {
				if res.Level == "error" {
					for _, l := range res.Locations {
						errs[l.Physical.Artifact.URI] = true
					}
				}
			}
		}
		if !sameSet(errs, denied) {
			t.Errorf("%s: %s has errors in %v, want %v", run.Job, report, keys(errs), keys(denied))
		}
	case strings.HasSuffix(report, ".xml"):
		cases, failedCases, err := parseJUnit(data)
		if err != nil {
			t.Errorf("%s: %s: %v", run.Job, report, err)
			return
		}
		want := denied
		if strings.HasPrefix(report, "conftest") {
			// conftest's JUnit report lists a warning as a failed case.
			want = map[string]bool{"deploy/" + warnedManifest: true}
			for k := range denied {
				want[k] = true
			}
		}
		got := fileSet(regexp.MustCompile(`(deploy/[^ :]+\.yaml)`), strings.Join(failedCases, "\n"))
		if !sameSet(got, want) {
			t.Errorf("%s: %s (%d cases) has failed cases for %v, want %v:\n%s", run.Job, report, cases, keys(got), keys(want), strings.Join(failedCases, "\n"))
		}
	default:
		t.Fatalf("no check for report %s", report)
	}
}

func fileSet(re *regexp.Regexp, s string) map[string]bool {
	out := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		out[m[1]] = true
	}
	return out
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fixture is what the policy owners publish: a signed anti-delos bundle as
// a file and in a registry on loopback, and their public key.
type fixture struct {
	root, dir     string
	charter       string // the CLI built from this checkout
	version       string
	conftest, pin string
	ref           string // oci:// reference of the pushed bundle
	key, pub, tgz string
	tampered      string
	repoFiles     map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{root: root, dir: t.TempDir()}
	version, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	f.version = strings.TrimSpace(string(version))
	f.conftest = filepath.Join(root, "bin", "conftest")
	if _, err := os.Stat(f.conftest); err != nil {
		t.Fatalf("%s is missing: run `make tools` first (builds the pinned conftest from tools/conftest into bin/)", f.conftest)
	}
	if f.pin, err = modulePin(filepath.Join(root, "tools", "conftest", "go.mod"), "github.com/open-policy-agent/conftest"); err != nil {
		t.Fatal(err)
	}
	// Built as a release is: the version stamped, so charter version in a
	// job's log says what go install @VERSION would have installed.
	f.charter = binPath(root)
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	build := exec.Command(goBin, "build", "-ldflags", "-X github.com/charter-dev/charter/version.version="+f.version, "-o", f.charter, "./cmd/charter")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/charter: %v\n%s", err, out)
	}
	f.key, f.pub = filepath.Join(f.dir, "charter.key"), filepath.Join(f.dir, "charter.pub")
	f.tgz = filepath.Join(f.dir, "anti-delos.tar.gz")
	f.must(t, "keys", "generate", "--out", filepath.Join(f.dir, "charter"))
	f.must(t, "build", "--sign", "--key", f.key, "--serial", "1", "-o", f.tgz, filepath.Join(root, "policies", "anti-delos.yaml"))
	reg := ocitest.Start(t)
	f.ref = reg.Ref("platform/charter/anti-delos:v1")
	f.must(t, "bundle", "push", "--key", f.key, f.tgz, f.ref)
	f.tampered = tamper(t, f.tgz, filepath.Join(f.dir, "tampered.tar.gz"))
	f.repoFiles = map[string]string{
		".charter/charter.pub":                          f.pub,
		"policies/anti-delos.yaml":                      filepath.Join(root, "policies", "anti-delos.yaml"),
		"policies/council":                              filepath.Join(root, "policies", "council"),
		"policies/testdata/anti-delos":                  filepath.Join(root, "policies", "testdata", "anti-delos"),
		"policy-bundle/anti-delos.tar.gz":               f.tgz,
		"policy-bundle/anti-delos.tar.gz.sigstore.json": f.tgz + bundles.SigstoreSuffix,
		"policy-bundle/tampered.tar.gz":                 f.tampered,
	}
	return f
}

// binPath is where the test builds the CLI: a directory of the user's
// cache kept per checkout, because go build relinks only when the binary
// there is stale (linking charter costs seconds of CPU), while its build ID
// check still rebuilds on any change.
func binPath(root string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	sum := sha256.Sum256([]byte(root))
	return filepath.Join(dir, "charter-test", "ci-examples-"+hex.EncodeToString(sum[:6]), "charter")
}

// runner is the fixture as one scenario's pipeline sees it.
func (f *fixture) runner(t *testing.T, sc scenario) *runner {
	t.Helper()
	files := map[string]string{}
	for k, v := range f.repoFiles {
		files[k] = v
	}
	for _, m := range sc.manifests {
		files["deploy/"+m] = filepath.Join(f.root, "examples", "manifests", m)
	}
	repo, err := readRepo(files)
	if err != nil {
		t.Fatal(err)
	}
	return &runner{
		charterBin: f.charter, charterVersion: f.version,
		conftestBin: f.conftest, conftestPin: f.pin,
		repo:     repo,
		settings: map[string]string{"CHARTER_BUNDLE": sc.bundle(f)},
	}
}

// must runs the charter CLI, which has to succeed.
func (f *fixture) must(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(f.charter, args...)
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD=ci-examples")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("charter %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// tamper writes a copy of a signed bundle with one Rego module changed and
// the signature kept.
func tamper(t *testing.T, src, dst string) string {
	t.Helper()
	files, _, err := bundles.ReadFiles(src)
	if err != nil {
		t.Fatal(err)
	}
	changed := false
	for _, n := range files.Names() {
		if strings.HasSuffix(n, ".rego") {
			files[n] = append(bytes.Clone(files[n]), []byte("\n# tampered\n")...)
			changed = true
			break
		}
	}
	if !changed {
		t.Fatal("the bundle has no Rego module to tamper with")
	}
	data, err := files.TarGz()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// modulePin is the version a go.mod requires of a module.
func modulePin(gomod, module string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	mf, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		return "", err
	}
	for _, r := range mf.Require {
		if r.Mod.Path == module {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", gomod, module)
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
