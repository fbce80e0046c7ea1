package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The emulation's own rules, each shown to refuse what it must: without
// them TestExamples could pass on a pipeline the CI system would run
// differently.

func TestCondition(t *testing.T) {
	for _, tc := range []struct {
		expr          string
		failed, want  bool
		unsupportedOK bool
	}{
		{"", false, true, false},
		{"", true, false, false},
		{"success()", true, false, false},
		{"failure()", false, false, false},
		{"failure()", true, true, false},
		{"${{ failure() }}", true, true, false},
		{"success() || failure()", true, true, false},
		{"always()", true, true, false},
		{"!cancelled()", false, true, false},
		{"github.event_name == 'push'", false, false, true},
		{"failure() && steps.gate.outcome == 'failure'", true, false, true},
	} {
		got, err := condition(tc.expr, tc.failed)
		if tc.unsupportedOK {
			if err == nil {
				t.Errorf("if: %q: evaluated to %v; the test must refuse what it cannot evaluate", tc.expr, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("if: %q after a failure=%v: %v, %v; want %v", tc.expr, tc.failed, got, err, tc.want)
		}
	}
}

func TestExpand(t *testing.T) {
	settings := map[string]string{"CHARTER_BUNDLE": "oci://r/x:v1"}
	if got, err := expand("${{ vars.CHARTER_BUNDLE }}", settings); err != nil || got != "oci://r/x:v1" {
		t.Errorf("vars: %q, %v", got, err)
	}
	for _, bad := range []string{"${{ vars.OTHER }}", "${{ secrets.KEY }}", "${{ github.sha }}"} {
		if got, err := expand(bad, settings); err == nil {
			t.Errorf("%s expanded to %q; the test must refuse what it does not set", bad, got)
		}
	}
}

func TestInstall(t *testing.T) {
	r := &runner{charterBin: "/c", charterVersion: "v0.1.0", conftestBin: "/f", conftestPin: "v0.71.1"}
	env := map[string]string{"V": "v0.1.0"}
	for _, tc := range []struct {
		line, want string // want: the binary linked, or a fragment of the error
		ok         bool
	}{
		{"go install github.com/charter-dev/charter/cmd/charter@${V}", "charter", true},
		{"go install github.com/open-policy-agent/conftest@v0.71.1", "conftest", true},
		{"go install github.com/charter-dev/charter/cmd/charter@v0.0.9", "this checkout is v0.1.0", false},
		{"go install github.com/charter-dev/charter/cmd/charter@latest", "this checkout is v0.1.0", false},
		{"go install github.com/charter-dev/charter/cmd/charterd@v0.1.0", "does not know how to provide", false},
		{"go install github.com/open-policy-agent/conftest@v0.60.0", "tools/conftest pins v0.71.1", false},
		{"go install github.com/open-policy-agent/opa@v1.22.3", "does not know how to provide", false},
		{"go install ./cmd/charter", "not a go install PKG@VERSION line", false},
	} {
		gobin := t.TempDir()
		_, err := r.install(tc.line, env, gobin)
		if !tc.ok {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want an error with %q", tc.line, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		if _, err := os.Lstat(filepath.Join(gobin, tc.want)); err != nil {
			t.Errorf("%s: %s not in GOBIN: %v", tc.line, tc.want, err)
		}
	}
}

func TestIsInstall(t *testing.T) {
	for script, want := range map[string]bool{
		"go install a/b@v1":                      true,
		"go install a/b@v1\n  go install c@v2\n": true,
		"charter test policies/":                 false,
	} {
		if got, err := isInstall(script); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", script, got, err, want)
		}
	}
	if _, err := isInstall("go install a/b@v1\ncharter version"); err == nil {
		t.Error("a step mixing an install line with a command is accepted; the command would never run")
	}
}

// TestStrictParsing: a key the emulation does not implement fails the load.
func TestStrictParsing(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const step = "      - run: charter test policies/\n"
	for name, body := range map[string]string{
		"continue-on-error": "defaults: {run: {shell: bash}}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: charter eval\n        continue-on-error: true\n",
		"working-directory": "defaults: {run: {shell: bash}}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: charter eval\n        working-directory: sub\n",
		"matrix":            "defaults: {run: {shell: bash}}\njobs:\n  a:\n    runs-on: x\n    strategy: {matrix: {v: [1]}}\n    steps:\n" + step,
		"default shell":     "jobs:\n  a:\n    runs-on: x\n    steps:\n" + step,
		"uses and run":      "defaults: {run: {shell: bash}}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n        run: ls\n",
	} {
		if _, err := loadWorkflow(write("wf.yml", body)); err == nil {
			t.Errorf("GitHub workflow with %s loaded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	for name, body := range map[string]string{
		"allow_failure":     "stages: [test]\nj:\n  stage: test\n  allow_failure: true\n  script: [charter eval]\n",
		"default script":    "stages: [test]\ndefault:\n  before_script: [echo]\nj:\n  stage: test\n  script: [charter eval]\n",
		"include":           "include: other.yml\nj:\n  script: [charter eval]\n",
		"unknown stage":     "stages: [test]\nj:\n  stage: deploy\n  script: [charter eval]\n",
		"no script":         "stages: [test]\nj:\n  stage: test\n",
		"variable with $":   "variables:\n  A: $B\nj:\n  script: [charter eval]\n",
		"template":          ".t:\n  script: [x]\nj:\n  script: [charter eval]\n",
		"artifacts exclude": "j:\n  script: [charter eval]\n  artifacts:\n    exclude: [x]\n",
	} {
		if _, err := loadGitLab(write("gl.yml", body)); err == nil {
			t.Errorf("GitLab file with %s loaded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestGitLabStopsAtFailingLine: the marker bookkeeping names the line that
// failed, runs no later line, and still runs after_script.
func TestGitLabStopsAtFailingLine(t *testing.T) {
	ci := &gitlabCI{Jobs: map[string]*gitlabJob{"j": {
		BeforeScript: []string{"echo one > one"},
		Script:       []string{"true", "exit 3", "echo never > never"},
		AfterScript:  []string{"echo after > after"},
	}}}
	r := &runner{}
	run := r.runGitLabJob(t, ci, "j")
	if run.succeeded() || run.FailedAt.ID != "j/script[1]" || run.FailedAt.Code != 3 {
		t.Fatalf("failed at %+v, want j/script[1] with exit 3\n%s", run.FailedAt, run.Log.String())
	}
	states := map[string]string{}
	for _, e := range run.Entries {
		states[e.ID] = e.State
	}
	want := map[string]string{"j/before_script[0]": stateRan, "j/script[0]": stateRan, "j/script[1]": stateRan, "j/script[2]": stateNotReached, "j/after_script[0]": stateRan}
	for id, s := range want {
		if states[id] != s {
			t.Errorf("%s: %q, want %q", id, states[id], s)
		}
	}
	for file, exists := range map[string]bool{"one": true, "never": false, "after": true} {
		if _, err := os.Stat(filepath.Join(run.Workspace, file)); (err == nil) != exists {
			t.Errorf("%s exists: %v, want %v", file, err == nil, exists)
		}
	}
}

// TestGitHubPipefail: a step whose command fails before a pipe or a
// redirection fails, as under GitHub's shell: bash.
func TestGitHubPipefail(t *testing.T) {
	wf := &workflow{Jobs: map[string]*githubJob{"j": {Steps: []githubStep{
		{Name: "pipe", Run: "false | cat > out"},
		{Name: "after", Run: "echo never > never"},
		{Name: "on failure", If: "failure()", Run: "echo shown > shown"},
	}}}}
	run := (&runner{}).runGitHubJob(t, wf, "j")
	if run.succeeded() || run.FailedAt.ID != "j/pipe" || run.FailedAt.Code != 1 {
		t.Fatalf("failed at %+v, want j/pipe with exit 1", run.FailedAt)
	}
	if run.Entries[1].State != stateNotReached || run.Entries[2].State != stateRan {
		t.Errorf("entries: %+v", run.Entries)
	}
}
