package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charter-dev/charter/audit"
)

// TestCharterOPARun: `charter opa run --server` with the charter plugin
// answers POST /v1/data/charter/decision as the engine (and so charter eval,
// TestCharterEval) does, on the shipped test data raw and as
// AdmissionReviews, and on the upstream Pod Security fixtures; the generated
// charter has raw Rego, which OPA itself evaluates. Every decision is in the
// audit log, which verifies. The answer is also OPA's own: asked with
// ?metrics=true (a query the native path leaves to OPA) it is identical.
func TestCharterOPARun(t *testing.T) {
	bin := cli(t)
	cases, objs := fixtures(t)
	pss := pssFixtures(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			inputs := objs
			if strings.Contains(c.Name, "pod-security") {
				inputs = append(append([]*object(nil), objs...), pss...)
			}
			want := expectations(t, c, inputs)
			auditLog := filepath.Join(t.TempDir(), "audit.log")
			base := startCharterOPA(t, bin, "--charter-bundle", c.TarGz, "--charter-audit-log", auditLog)
			errs := make([]string, len(inputs))
			parallel(len(inputs), 4, func(i int) {
				native, err := postDecision(base+"/v1/data/charter/decision", inputs[i].Value)
				if err != nil {
					errs[i] = fmt.Sprintf("%s: %v", inputs[i].ID, err)
					return
				}
				if errs[i] = compareDecision(inputs[i], native, want[i]); errs[i] != "" {
					return
				}
				if i%7 != 0 {
					return // OPA's own evaluation of a sample is enough to compare the JSON
				}
				byOPA, err := postDecision(base+"/v1/data/charter/decision?metrics=true", inputs[i].Value)
				if err != nil {
					errs[i] = fmt.Sprintf("%s: %v", inputs[i].ID, err)
					return
				}
				var a, b any
				if json.Unmarshal(native, &a) != nil || json.Unmarshal(byOPA, &b) != nil || !reflect.DeepEqual(a, b) {
					errs[i] = fmt.Sprintf("%s: native answer differs from OPA's\n native: %s\n opa:    %s", inputs[i].ID, native, byOPA)
				}
			})
			report(t, errs)
			sampled := (len(inputs) + 6) / 7
			r, err := audit.Verify(auditLog, audit.VerifyOptions{})
			if err != nil || r.Records != int64(len(inputs)+sampled) {
				t.Errorf("audit log: %d records (%v), want one per decision: %d", r.Records, err, len(inputs)+sampled)
			}
		})
	}
}

// postDecision asks for a decision and returns the result document.
func postDecision(url string, input any) (json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{"input": input})
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var res struct {
		Result json.RawMessage `json:"result"`
	}
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, clip(data))
	}
	if err := json.Unmarshal(data, &res); err != nil || res.Result == nil {
		return nil, fmt.Errorf("no result (%v): %s", err, clip(data))
	}
	return res.Result, nil
}

// pssFixtures are the upstream Pod Security Admission fixtures of the latest
// policy version (both levels, pass and fail), as objects.
func pssFixtures(t *testing.T) []*object {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatalf("go list -m k8s.io/pod-security-admission: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "test", "testdata")
	var objs []*object
	for _, level := range []string{"baseline", "restricted"} {
		versions, _ := filepath.Glob(filepath.Join(dir, level, "v1.*"))
		latest, best := "", -1
		for _, v := range versions {
			var minor int
			if _, err := fmt.Sscanf(filepath.Base(v), "v1.%d", &minor); err == nil && minor > best {
				latest, best = v, minor
			}
		}
		files, _ := filepath.Glob(filepath.Join(latest, "*", "*.yaml"))
		for _, f := range files {
			docs, err := readDocs(f)
			if err != nil || len(docs) != 1 {
				t.Fatalf("%s: %v", f, err)
			}
			var v any
			data, _ := json.Marshal(docs[0])
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(dir, f)
			objs = append(objs, &object{ID: "pss:" + rel, Value: v})
		}
	}
	if len(objs) < 20 {
		t.Fatalf("found %d upstream Pod Security fixtures under %s", len(objs), dir)
	}
	return objs
}

// startCharterOPA starts `charter opa run --server` on a free port with the
// further flags and waits until every plugin is ready. It stops with the test.
func startCharterOPA(t *testing.T, bin string, flags ...string) string {
	t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		if base, ok := tryCharterOPA(t, bin, flags); ok {
			return base
		}
	}
	t.Fatal("charter opa run did not find a free port")
	return ""
}

// tryCharterOPA is one start; false means the port was taken meanwhile.
func tryCharterOPA(t *testing.T, bin string, flags []string) (string, bool) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, append([]string{"opa", "run", "--server", "--addr", addr, "--log-level", "error"}, flags...)...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	base := "http://" + addr
	giveUp := time.Now().Add(2 * time.Minute)
	for {
		select {
		case <-exited:
			if strings.Contains(logs.String(), "address already in use") {
				return "", false
			}
			t.Fatalf("charter opa run exited: %v\n%s", cmd.ProcessState, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(giveUp) {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("charter opa run never became healthy:\n%s", logs.String())
		}
		resp, err := httpClient.Get(base + "/health?plugins")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})
			return base, true
		}
	}
}

// TestCharterOPARunRefuses: with a key configured, `charter opa run` does not
// start on a bundle that is unsigned, tampered, signed by another key or
// expired, nor beside an unverified charter bundle OPA was given itself; each
// refusal names its reason. A bundle older than the serial it enforced
// before is refused and the state directory's bundle enforces instead.
func TestCharterOPARunRefuses(t *testing.T) {
	bin := cli(t)
	f := newSigningFixture(t)
	charter := filepath.Join(root, "policies", "anti-delos.yaml")
	build := func(name string, args ...string) string {
		p := filepath.Join(f.dir, name)
		must(t, bin, append(append([]string{"build", "-o", p}, args...), charter)...)
		return p
	}
	unsigned := build("unsigned.tar.gz")
	newer := build("serial-9.tar.gz", "--sign", "--key", f.key, "--serial", "9")
	older := build("serial-3.tar.gz", "--sign", "--key", f.key, "--serial", "3")
	// charter build refuses an expiry already passed: sign one that passes now.
	expiresAt := time.Now().Add(20 * time.Second)
	expired := build("expired.tar.gz", "--sign", "--key", f.key, "--expires", expiresAt.UTC().Format(time.RFC3339))
	must(t, bin, "keys", "generate", "--out", filepath.Join(f.dir, "other"))
	foreign := build("other-key.tar.gz", "--sign", "--key", filepath.Join(f.dir, "other.key"))
	state := filepath.Join(f.dir, "state")

	// The good case first: it also leaves serial 9 in the state directory.
	base := startCharterOPA(t, bin, "--charter-bundle", newer, "--charter-verify-key", f.pub, "--charter-state-dir", state)
	if _, err := postDecision(base+"/v1/data/charter/decision", map[string]any{"kind": "Pod"}); err != nil {
		t.Fatalf("charter opa run with a signed bundle does not answer: %v", err)
	}

	time.Sleep(time.Until(expiresAt.Add(time.Second)))
	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"unsigned", []string{"--charter-bundle", unsigned}, "the bundle is unsigned"},
		{"tampered", []string{"--charter-bundle", tamperedCopy(t, f.tarball)}, "bundle signature is invalid"},
		{"signed by another key", []string{"--charter-bundle", foreign}, "bundle signature is invalid"},
		{"expired", []string{"--charter-bundle", expired}, "expired"},
		{"beside an unverified charter bundle loaded by OPA", []string{"--charter-bundle", f.tarball, "--bundle", unsigned}, "unverified by charter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			args := append([]string{"opa", "run", "--server", "--addr", "127.0.0.1:0", "--log-level", "error", "--charter-verify-key", f.pub}, tc.flags...)
			out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("charter opa run kept running:\n%s", out)
			}
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("charter opa run did not refuse with %q (%v):\n%s", tc.want, err, out)
			}
		})
	}
	// A rollback below the persisted serial is refused, and the state
	// directory's bundle (serial 9) enforces instead, as at the webhook.
	base = startCharterOPA(t, bin, "--charter-bundle", older, "--charter-verify-key", f.pub, "--charter-state-dir", state)
	resp, err := httpClient.Get(base + "/v1/data/system/bundles/charter/manifest/metadata/serial")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var serial struct{ Result json.Number }
	if err := json.NewDecoder(resp.Body).Decode(&serial); err != nil || serial.Result != "9" {
		t.Errorf("after a rollback to serial 3, OPA's store holds serial %q (%v), want the persisted 9", serial.Result, err)
	}
}
