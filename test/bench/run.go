package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Run is one timed run of a command that decides objects.
type Run struct {
	Wall, CPU time.Duration
	PeakRSS   int64 // bytes: the process's rusage maxrss
	Objects   int
	Denied    int
}

// Rate is the objects decided per second of wall time.
func (r Run) Rate() float64 { return float64(r.Objects) / r.Wall.Seconds() }

// NeedFiles fails with a hint when a tool or input of a bench is missing.
func NeedFiles(paths ...string) error {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (run `make build tools` first)", err)
		}
	}
	return nil
}

// Timed runs cmd and measures its wall and CPU time and peak RSS. Exit
// code 1 (policy violations) is a normal outcome; anything else is an
// error quoting the command's stderr.
func Timed(cmd *exec.Cmd) (Run, []byte, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil && (cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1) {
		return Run{}, nil, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, clip(stderr.Bytes()))
	}
	r := Run{Wall: wall, CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.PeakRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return r, stdout.Bytes(), nil
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "\n[...]"
	}
	return string(b)
}

// RunCharter runs charter with args (eval or audit scan, -o json) and counts
// the objects it decided and denied.
func RunCharter(bin string, args ...string) (Run, error) {
	r, out, err := Timed(exec.Command(bin, args...))
	if err != nil {
		return r, err
	}
	var res struct {
		Results []struct {
			Allowed bool `json:"allowed"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return r, fmt.Errorf("charter %s output: %w", args[0], err)
	}
	r.Objects = len(res.Results)
	for _, o := range res.Results {
		if !o.Allowed {
			r.Denied++
		}
	}
	return r, nil
}

// RunConftest runs `conftest test --namespace charter` with the compiled
// bundle directory on corpus and counts the objects it tested and failed.
func RunConftest(bin, bundleDir, corpus string) (Run, error) {
	r, out, err := Timed(exec.Command(bin, "test", "--policy", bundleDir, "--namespace", "charter", "--output", "json", "--no-color", corpus))
	if err != nil {
		return r, err
	}
	var res []struct {
		Failures []json.RawMessage `json:"failures"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return r, fmt.Errorf("conftest output: %w", err)
	}
	r.Objects = len(res)
	for _, o := range res {
		if len(o.Failures) > 0 {
			r.Denied++
		}
	}
	return r, nil
}

// BuildBundles compiles a charter with `charter build` into dir twice: a
// .tar.gz for charter and a directory for conftest --policy.
func BuildBundles(charterBin, charterPath, dir string) (tgz, bundleDir string, err error) {
	tgz, bundleDir = filepath.Join(dir, "bundle.tar.gz"), filepath.Join(dir, "bundle")
	for _, args := range [][]string{{"build", "-o", tgz, charterPath}, {"build", "--format", "dir", "-o", bundleDir, charterPath}} {
		if out, err := exec.Command(charterBin, args...).CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("charter %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return tgz, bundleDir, nil
}
