package ci

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// runner is what every job of every example shares: the binaries the
// install lines stand for, and the files of the repository a job checks out.
type runner struct {
	charterBin     string // built from this checkout by the test
	charterVersion string // the checkout's VERSION
	conftestBin    string // bin/conftest, built from tools/conftest
	conftestPin    string // the conftest version tools/conftest/go.mod pins
	repo           map[string][]byte
	settings       map[string]string // the CI/CD variables set in the project's settings
}

// installLine is a `go install MODULE/PKG@VERSION` line. The hosted runner
// downloads and builds the module; the test has no network, so it provides
// the binary it built from the same source, after checking that the package
// and version are the ones that source is.
var installLine = regexp.MustCompile(`^go install ([^@\s]+)@(\S+)$`)

// install satisfies one install line (with variables expanded from env) by
// linking the right binary into gobin; it returns what it did, for the log.
func (r *runner) install(line string, env map[string]string, gobin string) (string, error) {
	expanded := os.Expand(line, func(k string) string { return env[k] })
	m := installLine.FindStringSubmatch(strings.TrimSpace(expanded))
	if m == nil {
		return "", fmt.Errorf("%q is not a go install PKG@VERSION line", line)
	}
	pkg, version := m[1], m[2]
	var bin, name string
	switch pkg {
	case "github.com/charter-dev/charter/cmd/charter":
		if version != r.charterVersion {
			return "", fmt.Errorf("%s installs charter %s, but this checkout is %s (VERSION): update the example with the release", line, version, r.charterVersion)
		}
		bin, name = r.charterBin, "charter"
	case "github.com/open-policy-agent/conftest":
		if version != r.conftestPin {
			return "", fmt.Errorf("%s installs conftest %s, but tools/conftest pins %s, which the interop tests prove charter bundles work with", line, version, r.conftestPin)
		}
		bin, name = r.conftestBin, "conftest"
	default:
		return "", fmt.Errorf("%s: the test does not know how to provide %s without the network", line, pkg)
	}
	if err := os.Symlink(bin, filepath.Join(gobin, name)); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: provided %s (built from %s)", expanded, name, map[string]string{"charter": "this checkout", "conftest": "tools/conftest"}[name]), nil
}

// isInstall reports whether every non-empty line of a script is an install
// line; mixing install lines with other commands is refused, because the
// test could then not run the others verbatim.
func isInstall(script string) (bool, error) {
	install, other := 0, 0
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
		case strings.HasPrefix(l, "go install "):
			install++
		default:
			other++
		}
	}
	if install > 0 && other > 0 {
		return false, fmt.Errorf("a step mixes go install lines with other commands; give the install lines a step of their own:\n%s", script)
	}
	return install > 0, nil
}

// job is one job's runner machine: a fresh checkout and an empty GOBIN on
// PATH, as a hosted runner or a CI image has.
type job struct {
	t         *testing.T
	workspace string
	gobin     string
	home      string
}

func (r *runner) newJob(t *testing.T) *job {
	t.Helper()
	dir := t.TempDir()
	j := &job{t: t, workspace: filepath.Join(dir, "workspace"), gobin: filepath.Join(dir, "gobin"), home: filepath.Join(dir, "home")}
	for _, d := range []string{j.workspace, j.gobin, j.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range r.repo {
		p := filepath.Join(j.workspace, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return j
}

// environ is a clean environment (nothing of the test's own leaks in, such
// as COSIGN_PASSWORD) plus vars, sorted for a stable log.
func (j *job) environ(vars map[string]string) []string {
	env := map[string]string{
		"PATH":   j.gobin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME":   j.home,
		"TMPDIR": j.t.TempDir(),
		"CI":     "true",
	}
	for k, v := range vars {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// bash runs a script file with bash and the given options in the
// workspace; it returns the exit code and the combined output.
func (j *job) bash(opts []string, script string, env []string) (int, string) {
	j.t.Helper()
	f, err := os.CreateTemp(j.t.TempDir(), "step-*.sh")
	if err != nil {
		j.t.Fatal(err)
	}
	if _, err := f.WriteString(script); err != nil {
		j.t.Fatal(err)
	}
	f.Close()
	cmd := exec.Command("bash", append(opts, f.Name())...)
	cmd.Dir = j.workspace
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	j.t.Fatalf("bash: %v", err)
	return 0, ""
}

func (j *job) read(rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(j.workspace, rel))
}

// junitReport is the part of a JUnit XML report CI systems read: conftest
// writes <testsuites> without totals, charter with them, so the counts are
// summed over the suites.
type junitReport struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// parseJUnit decodes a report and returns its test cases and the names of
// the failed ones.
func parseJUnit(data []byte) (cases int, failed []string, err error) {
	var r junitReport
	if err := xml.Unmarshal(data, &r); err != nil {
		return 0, nil, fmt.Errorf("not a JUnit report: %w", err)
	}
	for _, s := range r.Suites {
		for _, c := range s.Cases {
			cases++
			if c.Failure != nil {
				failed = append(failed, s.Name+": "+c.Name)
			}
		}
	}
	if cases == 0 {
		return 0, nil, errors.New("the JUnit report holds no test case")
	}
	return cases, failed, nil
}

// readRepo reads the files a job's checkout holds, keyed by their path in
// the example repository.
func readRepo(files map[string]string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for dst, src := range files {
		fi, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			data, err := os.ReadFile(src)
			if err != nil {
				return nil, err
			}
			out[dst] = data
			continue
		}
		err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			out[dst+"/"+filepath.ToSlash(rel)] = data
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
