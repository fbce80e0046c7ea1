package ci

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// workflow is the part of a GitHub Actions workflow the test understands.
// It is decoded strictly: a key the test does not know (continue-on-error,
// working-directory, a matrix...) fails the test until it learns it, so the
// emulation cannot silently diverge from what GitHub does.
type workflow struct {
	Name        string            `yaml:"name"`
	On          yaml.Node         `yaml:"on"`
	Permissions yaml.Node         `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Defaults    struct {
		Run struct {
			Shell string `yaml:"shell"`
		} `yaml:"run"`
	} `yaml:"defaults"`
	Jobs map[string]*githubJob `yaml:"jobs"`
}

type githubJob struct {
	Name        string            `yaml:"name"`
	RunsOn      string            `yaml:"runs-on"`
	Permissions yaml.Node         `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Steps       []githubStep      `yaml:"steps"`
}

type githubStep struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	If   string            `yaml:"if"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

func (s githubStep) id(job string) string {
	switch {
	case s.Name != "":
		return job + "/" + s.Name
	case s.Uses != "":
		return job + "/" + s.Uses
	}
	return job + "/Run " + firstLine(s.Run)
}

func loadWorkflow(path string) (*workflow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var wf workflow
	if err := dec.Decode(&wf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// GitHub runs `shell: bash` as bash --noprofile --norc -eo pipefail,
	// which is what the test runs; its default shell is bash -e, without
	// pipefail, and would let a failing eval piped into a file pass.
	if wf.Defaults.Run.Shell != "bash" {
		return nil, fmt.Errorf("%s: set defaults.run.shell: bash (the test runs steps as GitHub runs shell: bash)", path)
	}
	if len(wf.Jobs) == 0 {
		return nil, fmt.Errorf("%s: no jobs", path)
	}
	for name, j := range wf.Jobs {
		for i, s := range j.Steps {
			if (s.Uses == "") == (s.Run == "") {
				return nil, fmt.Errorf("%s: jobs.%s.steps[%d]: a step has exactly one of uses: and run:", path, name, i)
			}
		}
	}
	return &wf, nil
}

// jobNames lists the workflow's jobs in a stable order.
func (wf *workflow) jobNames() []string {
	var names []string
	for n := range wf.Jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// hostedActions are the actions that only make sense on GitHub's runners,
// and why skipping each one changes nothing the test checks.
var hostedActions = map[string]string{
	"actions/checkout":                  "the job's workspace is a fresh copy of the example repository",
	"actions/setup-go":                  "go is only used by the go install lines, which the test provides",
	"github/codeql-action/upload-sarif": "uploads to GitHub code scanning; the test checks the sarif_file it would upload instead",
}

var varsExpr = regexp.MustCompile(`\$\{\{\s*vars\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// expand resolves ${{ vars.NAME }} from the repository's variables; any
// other expression is one the test cannot evaluate, and fails it.
func expand(s string, settings map[string]string) (string, error) {
	var err error
	out := varsExpr.ReplaceAllStringFunc(s, func(m string) string {
		name := varsExpr.FindStringSubmatch(m)[1]
		v, ok := settings[name]
		if !ok {
			err = fmt.Errorf("the example reads repository variable %s, which the test does not set", name)
		}
		return v
	})
	if err == nil && strings.Contains(out, "${{") {
		err = fmt.Errorf("%q: the test only evaluates ${{ vars.NAME }}", s)
	}
	return out, err
}

// condition evaluates a step's if: as GitHub does for the few status
// functions the examples use; anything else fails the test.
func condition(expr string, failed bool) (bool, error) {
	e := strings.TrimSpace(expr)
	if strings.HasPrefix(e, "${{") && strings.HasSuffix(e, "}}") {
		e = strings.TrimSpace(e[3 : len(e)-2])
	}
	switch e {
	case "", "success()":
		return !failed, nil
	case "failure()":
		return failed, nil
	case "always()", "!cancelled()", "success() || failure()":
		return true, nil
	}
	return false, fmt.Errorf("if: %q: the test evaluates only success(), failure(), always(), !cancelled() and success() || failure()", expr)
}

// runGitHubJob runs one job of the workflow as its runner would.
func (r *runner) runGitHubJob(t *testing.T, wf *workflow, name string) *jobRun {
	t.Helper()
	gj := wf.Jobs[name]
	j := r.newJob(t)
	run := &jobRun{Job: name, Workspace: j.workspace, Artifacts: map[string][]byte{}}
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": j.workspace, "RUNNER_TEMP": t.TempDir()}
	for _, layer := range []map[string]string{wf.Env, gj.Env} {
		for k, v := range layer {
			x, err := expand(v, r.settings)
			if err != nil {
				t.Fatalf("%s: env %s: %v", name, k, err)
			}
			env[k] = x
		}
	}
	for _, s := range gj.Steps {
		id := s.id(name)
		ok, err := condition(s.If, !run.succeeded())
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if !ok {
			if run.succeeded() {
				run.add(entry{ID: id, Command: s.Run + s.Uses, State: stateSkipped, Note: "if: " + s.If})
			} else {
				run.add(entry{ID: id, Command: s.Run + s.Uses, State: stateNotReached})
			}
			continue
		}
		if s.Uses != "" {
			r.githubAction(t, j, run, id, s)
			continue
		}
		stepEnv := map[string]string{}
		for k, v := range env {
			stepEnv[k] = v
		}
		for k, v := range s.Env {
			x, err := expand(v, r.settings)
			if err != nil {
				t.Fatalf("%s: env %s: %v", id, k, err)
			}
			stepEnv[k] = x
		}
		install, err := isInstall(s.Run)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if install {
			var notes []string
			for _, l := range strings.Split(strings.TrimSpace(s.Run), "\n") {
				note, err := r.install(strings.TrimSpace(l), stepEnv, j.gobin)
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				notes = append(notes, note)
			}
			run.add(entry{ID: id, Command: s.Run, State: stateInstalled, Note: strings.Join(notes, "; ")})
			continue
		}
		code, out := j.bash([]string{"--noprofile", "--norc", "-eo", "pipefail"}, s.Run, j.environ(stepEnv))
		run.add(entry{ID: id, Command: s.Run, State: stateRan, Code: code})
		run.Log.WriteString(out)
		if code != 0 {
			run.failed()
		}
	}
	return run
}

// githubAction skips a uses: step that only works on GitHub, saying why,
// and records what upload-sarif would have uploaded.
func (r *runner) githubAction(t *testing.T, j *job, run *jobRun, id string, s githubStep) {
	t.Helper()
	action, version, ok := strings.Cut(s.Uses, "@")
	if !ok || version == "" {
		t.Fatalf("%s: pin the action's version (%s@vN)", id, s.Uses)
	}
	why, known := hostedActions[action]
	if !known {
		t.Fatalf("%s: uses %s, which the test does not know; add it to hostedActions with the reason it can be skipped, or make it a run: step", id, s.Uses)
	}
	run.add(entry{ID: id, Command: s.Uses, State: stateHosted, Note: why})
	if action == "github/codeql-action/upload-sarif" {
		file := s.With["sarif_file"]
		if file == "" {
			t.Fatalf("%s: upload-sarif without sarif_file", id)
		}
		if data, err := j.read(file); err == nil {
			run.Artifacts[file] = data
		} else {
			run.Missing = append(run.Missing, file)
		}
	}
}
