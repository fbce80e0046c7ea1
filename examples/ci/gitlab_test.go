package ci

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// gitlabCI is the part of a .gitlab-ci.yml the test understands, decoded
// strictly (see workflow): every top-level key that is not a keyword is a
// job.
type gitlabCI struct {
	Stages    []string
	Variables map[string]string
	Image     string // default.image
	Jobs      map[string]*gitlabJob
}

type gitlabJob struct {
	Stage        string            `yaml:"stage"`
	Image        string            `yaml:"image"`
	Needs        []string          `yaml:"needs"`
	Variables    map[string]string `yaml:"variables"`
	BeforeScript []string          `yaml:"before_script"`
	Script       []string          `yaml:"script"`
	AfterScript  []string          `yaml:"after_script"`
	Artifacts    struct {
		When    string   `yaml:"when"`
		Paths   []string `yaml:"paths"`
		Reports struct {
			JUnit string `yaml:"junit"`
		} `yaml:"reports"`
	} `yaml:"artifacts"`
}

// strictDecode decodes a node, refusing keys out of doc's struct.
func strictDecode(n *yaml.Node, out any) error {
	data, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(out)
}

func loadGitLab(path string) (*gitlabCI, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a mapping of jobs and keywords", path)
	}
	ci := &gitlabCI{Jobs: map[string]*gitlabJob{}}
	top := doc.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		key, n := top[i].Value, top[i+1]
		var err error
		switch {
		case key == "stages":
			err = strictDecode(n, &ci.Stages)
		case key == "variables":
			err = strictDecode(n, &ci.Variables)
		case key == "default":
			var d struct {
				Image string `yaml:"image"`
			}
			err = strictDecode(n, &d)
			ci.Image = d.Image
		case strings.HasPrefix(key, ".") || key == "include" || key == "workflow":
			err = fmt.Errorf("the test does not expand %s", key)
		default:
			j := &gitlabJob{}
			if err = strictDecode(n, j); err == nil && len(j.Script) == 0 {
				err = fmt.Errorf("a job needs a script")
			}
			ci.Jobs[key] = j
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, key, err)
		}
	}
	for name, j := range ci.Jobs {
		if j.Stage != "" && !contains(ci.Stages, j.Stage) {
			return nil, fmt.Errorf("%s: %s: stage %q is not among stages %v", path, name, j.Stage, ci.Stages)
		}
	}
	// The runner passes variable values through its own expansion; the
	// test passes them to bash as they are, so values must not need it.
	for _, vars := range append([]map[string]string{ci.Variables}, jobVariables(ci)...) {
		for k, v := range vars {
			if strings.Contains(v, "$") {
				return nil, fmt.Errorf("%s: variable %s=%q refers to another variable, which the test does not expand", path, k, v)
			}
		}
	}
	if len(ci.Jobs) == 0 {
		return nil, fmt.Errorf("%s: no jobs", path)
	}
	return ci, nil
}

func jobVariables(ci *gitlabCI) []map[string]string {
	var out []map[string]string
	for _, j := range ci.Jobs {
		out = append(out, j.Variables)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (ci *gitlabCI) jobNames() []string {
	var names []string
	for n := range ci.Jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// runGitLabJob runs one job as GitLab's shell runner does: before_script
// and script in one bash with set -eo pipefail, stopping at the first
// failing line (the job fails); after_script in a bash of its own, whatever
// happened (its failure does not fail the job); then the artifacts.
func (r *runner) runGitLabJob(t *testing.T, ci *gitlabCI, name string) *jobRun {
	t.Helper()
	gj := ci.Jobs[name]
	j := r.newJob(t)
	run := &jobRun{Job: name, Workspace: j.workspace, Artifacts: map[string][]byte{}}
	vars := map[string]string{"GITLAB_CI": "true", "CI_PROJECT_DIR": j.workspace, "CI_JOB_NAME": name}
	// Project settings take precedence over job variables, which take
	// precedence over the file's global ones.
	for _, layer := range []map[string]string{ci.Variables, gj.Variables, r.settings} {
		for k, v := range layer {
			vars[k] = v
		}
	}
	env := j.environ(vars)
	type line struct {
		id, text string
	}
	var main []line
	for i, l := range gj.BeforeScript {
		main = append(main, line{fmt.Sprintf("%s/before_script[%d]", name, i), l})
	}
	for i, l := range gj.Script {
		main = append(main, line{fmt.Sprintf("%s/script[%d]", name, i), l})
	}
	session := func(lines []line) (entries []entry, code int) {
		mark := filepath.Join(t.TempDir(), "mark")
		var script strings.Builder
		script.WriteString("set -eo pipefail\n")
		var ran []int // indexes of the lines bash runs
		for i, l := range lines {
			install, err := isInstall(l.text)
			if err != nil {
				t.Fatalf("%s: %v", l.id, err)
			}
			if install {
				note, err := r.install(strings.TrimSpace(l.text), vars, j.gobin)
				if err != nil {
					t.Fatalf("%s: %v", l.id, err)
				}
				entries = append(entries, entry{ID: l.id, Command: l.text, State: stateInstalled, Note: note})
				continue
			}
			fmt.Fprintf(&script, "printf '%%s\\n' %d > %s\nprintf '$ %%s\\n' %s\n%s\n", len(ran), shellQuote(mark), shellQuote(firstLine(l.text)), l.text)
			ran = append(ran, i)
			entries = append(entries, entry{ID: l.id, Command: l.text, State: stateNotReached})
		}
		if len(ran) == 0 {
			return entries, 0
		}
		code, out := j.bash(nil, script.String(), env)
		started := len(ran) - 1
		if code != 0 {
			data, err := os.ReadFile(mark)
			if err != nil {
				t.Fatalf("%s: the script failed before its first line: exit %d\n%s", name, code, out)
			}
			if started, err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil {
				t.Fatal(err)
			}
		}
		// Installs were provided before bash started, so entry order is
		// kept by index into lines.
		for k := 0; k <= started; k++ {
			e := &entries[indexOf(entries, lines[ran[k]].id)]
			e.State = stateRan
			if k == started {
				e.Code = code
			}
		}
		run.Log.WriteString(out)
		return entries, code
	}
	entries, code := session(main)
	for _, e := range entries {
		run.add(e)
		if e.State == stateRan && e.Code != 0 {
			run.failed()
		}
	}
	if code != 0 && run.succeeded() {
		t.Fatalf("%s: exit %d, but no line is marked as failed", name, code)
	}
	var after []line
	for i, l := range gj.AfterScript {
		after = append(after, line{fmt.Sprintf("%s/after_script[%d]", name, i), l})
	}
	afterEntries, _ := session(after)
	for _, e := range afterEntries {
		run.add(e)
	}
	r.gitlabArtifacts(j, run, gj)
	return run
}

func indexOf(entries []entry, id string) int {
	for i, e := range entries {
		if e.ID == id {
			return i
		}
	}
	panic("no entry " + id)
}

// gitlabArtifacts records the JUnit report GitLab would pick up: only when
// artifacts:when lets it upload after this job's outcome.
func (r *runner) gitlabArtifacts(j *job, run *jobRun, gj *gitlabJob) {
	when := gj.Artifacts.When
	if when == "" {
		when = "on_success"
	}
	upload := when == "always" || (when == "on_success") == run.succeeded()
	report := gj.Artifacts.Reports.JUnit
	if report == "" || !upload {
		return
	}
	if data, err := j.read(report); err == nil {
		run.Artifacts[report] = data
	} else {
		run.Missing = append(run.Missing, report)
	}
}
