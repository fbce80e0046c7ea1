package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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
