package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// coldStart is a webhook's time from process start to a 200 from /readyz,
// over one signed bundle, without and with --verify-key: runs of each,
// interleaved so that load changes hit both alike; the medians count.
type coldStart struct {
	plain, verified time.Duration
}

// share is what verification adds to the cold start, as a fraction.
func (c coldStart) share() float64 {
	return float64(c.verified-c.plain) / float64(c.plain)
}

func measureColdStart(charterBin, dir, bundle, pub string, runs int) (coldStart, error) {
	certs := filepath.Join(dir, "certs")
	if err := cmd(charterBin, "webhook", "certs", "--out", certs); err != nil {
		return coldStart{}, err
	}
	ca, err := os.ReadFile(filepath.Join(certs, "ca.crt"))
	if err != nil {
		return coldStart{}, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}}
	var plain, verified []time.Duration
	for i := 0; i < runs; i++ {
		for _, verify := range []bool{false, true} {
			args := []string{"webhook", "serve", "--bundle", bundle,
				"--tls-cert", filepath.Join(certs, "tls.crt"), "--tls-key", filepath.Join(certs, "tls.key")}
			if verify {
				args = append(args, "--verify-key", pub)
			}
			d, err := startToReady(client, charterBin, args)
			if err != nil {
				return coldStart{}, err
			}
			if verify {
				verified = append(verified, d)
			} else {
				plain = append(plain, d)
			}
		}
	}
	return coldStart{median(plain), median(verified)}, nil
}

// startToReady starts the webhook on a free port and polls /readyz every
// 2 ms until it answers 200, then stops it.
func startToReady(client *http.Client, charterBin string, args []string) (time.Duration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	addr := l.Addr().String()
	l.Close()
	c := exec.Command(charterBin, append(args, "--listen", addr)...)
	start := time.Now()
	if err := c.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = c.Process.Kill(); _ = c.Wait() }()
	deadline := start.Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := client.Get("https://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, errors.New("webhook serve " + fmt.Sprint(args) + ": not ready within a minute")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
