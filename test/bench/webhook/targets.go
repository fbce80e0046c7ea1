package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/charter-dev/charter/audit"
)

// target is one webhook implementation under load, in its own process.
type target struct {
	name    string
	url     string // where requests go
	ready   string // polled until 200
	cmd     *exec.Cmd
	body    func(review []byte) []byte
	allowed func(response []byte) (bool, error)
	log     string
	exited  chan struct{}
}

func (t *target) start(dir string) error {
	f, err := os.Create(filepath.Join(dir, t.name+".log"))
	if err != nil {
		return err
	}
	t.log = f.Name()
	t.cmd.Stdout, t.cmd.Stderr = f, f
	t.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := t.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", t.name, err)
	}
	t.exited = make(chan struct{})
	go func() { _ = t.cmd.Wait(); f.Close(); close(t.exited) }()
	return nil
}

func (t *target) waitReady(c *http.Client) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-t.exited:
			log, _ := os.ReadFile(t.log)
			return fmt.Errorf("%s exited:\n%s", t.name, tail(log))
		default:
		}
		if resp, err := c.Get(t.ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	log, _ := os.ReadFile(t.log)
	return fmt.Errorf("%s not ready:\n%s", t.name, tail(log))
}

func (t *target) stop() {
	if t.cmd.Process != nil {
		_ = t.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-t.exited:
		case <-time.After(10 * time.Second):
			_ = t.cmd.Process.Kill()
		}
	}
}

// cpuTime is the process's CPU time so far (user + system, from
// /proc/PID/stat in clock ticks of 10 ms).
func (t *target) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", t.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at state.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// peakRSS is the process's high-water resident set size (VmHWM).
func (t *target) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", t.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte) string {
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func identity(b []byte) []byte { return b }

func opaInput(b []byte) []byte {
	return append(append([]byte(`{"input":`), b...), '}')
}

// httpsClient trusts only the benchmark CA and keeps connections alive, the
// same for every target.
func httpsClient(tlsConf *tls.Config, conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     tlsConf,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     time.Minute,
	}}
}

const auditStatsPrefix = "audit-stats:"

// auditStats asks a target with an audit log for its counters (SIGUSR1) and
// reads them from its log; zero for a target without one.
func (t *target) auditStats() audit.Stats {
	if !slices.Contains(t.cmd.Args, "-audit-log") {
		return audit.Stats{}
	}
	count := func() int {
		b, _ := os.ReadFile(t.log)
		return strings.Count(string(b), auditStatsPrefix)
	}
	n := count()
	_ = t.cmd.Process.Signal(syscall.SIGUSR1)
	for deadline := time.Now().Add(5 * time.Second); count() == n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	b, _ := os.ReadFile(t.log)
	var st audit.Stats
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, auditStatsPrefix); ok {
			var d int64
			if _, err := fmt.Sscanf(rest, "%d %d %d %d", &st.Records, &st.Commits, &st.Syncs, &d); err == nil {
				st.SyncTime = time.Duration(d)
			}
		}
	}
	return st
}

// statsSub is what the counters counted between readings b and a.
func statsSub(a, b audit.Stats) audit.Stats {
	return audit.Stats{Records: a.Records - b.Records, Commits: a.Commits - b.Commits, Syncs: a.Syncs - b.Syncs, SyncTime: a.SyncTime - b.SyncTime}
}
