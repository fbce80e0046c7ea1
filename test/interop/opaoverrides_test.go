package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// overrideCase is one override document in the directory and the pod it
// is about: lifted names the override that must lift NO-PRIV on it, ""
// when the document must lift nothing.
type overrideCase struct {
	name, pod, lifted string
	write             func(t *testing.T, f *overridesFixture) string // returns the document's path
}

func overrideCases(now time.Time) []overrideCase {
	stamp := func(d time.Duration) string { return now.Add(d).UTC().Format(time.RFC3339) }
	return []overrideCase{
		{"approved by the council", "web-valid", "valid-web", func(t *testing.T, f *overridesFixture) string {
			return f.request(t, "valid.yaml", "valid-web", "default", "web-valid", "", "30m", "alice", "bob")
		}},
		{"unsigned", "web-unsigned", "", func(t *testing.T, f *overridesFixture) string {
			return f.request(t, "unsigned.yaml", "unsigned-web", "default", "web-unsigned", "", "30m")
		}},
		{"under-signed: 1 of 2 approvals", "web-under", "", func(t *testing.T, f *overridesFixture) string {
			return f.request(t, "under.yaml", "under-web", "default", "web-under", "", "30m", "alice")
		}},
		{"second signature by a key outside the council", "web-outsider", "", func(t *testing.T, f *overridesFixture) string {
			return f.request(t, "outsider.yaml", "outsider-web", "default", "web-outsider", "", "30m", "alice", "mallory")
		}},
		{"expired", "web-expired", "", func(t *testing.T, f *overridesFixture) string {
			return f.request(t, "expired.yaml", "expired-web", "default", "web-expired", stamp(-2*time.Hour), "1h", "alice", "bob")
		}},
		{"not yet valid", "web-future", "", func(t *testing.T, f *overridesFixture) string {
			return f.request(t, "future.yaml", "future-web", "default", "web-future", stamp(time.Hour), "30m", "alice", "bob")
		}},
		{"revoked by the charter", "web-revoked", "", func(t *testing.T, f *overridesFixture) string {
			return f.request(t, "revoked.yaml", "revoked-web", "default", "web-revoked", "", "30m", "alice", "bob")
		}},
		{"out of scope: another namespace", "web-scope", "", func(t *testing.T, f *overridesFixture) string {
			return f.request(t, "scope.yaml", "scope-web", "other", "web-scope", "", "30m", "alice", "bob")
		}},
		{"scope widened after approval", "web-wide-open", "", func(t *testing.T, f *overridesFixture) string {
			p := f.request(t, "widened.yaml", "widened-web", "default", "web-widened", "", "30m", "alice", "bob")
			data, err := os.ReadFile(p)
			if err != nil || !strings.Contains(string(data), "name: web-widened") {
				t.Fatalf("read %s: %v\n%s", p, err, data)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(data), "name: web-widened", "name: web-wide*", 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
}

// install copies an override document into the served directory.
func (f *overridesFixture) install(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(f.overrides, filepath.Base(p))
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestCharterOPARunOverrides: `charter opa run --charter-overrides DIR`
// loads only overrides the bundle's council verified into OPA's store, so
// POST /v1/data/charter/decision (the native path and OPA's own evaluation
// alike) lifts exactly what `charter eval --overrides DIR` lifts. Unsigned,
// under-signed, outsider-signed, expired, not yet valid, revoked,
// out-of-scope and tampered overrides each lift nothing; forged overrides
// written through the REST API are refused. The directory is read again
// while OPA runs (an override added, then removed; the directory gone lifts
// nothing until it is back), and an override starts and expires without a
// restart.
func TestCharterOPARunOverrides(t *testing.T) {
	bin := cli(t)
	f := newOverridesFixture(t)
	cases := overrideCases(time.Now())
	for _, c := range cases {
		f.install(t, c.write(t, f))
	}
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	base := startCharterOPA(t, bin, "--charter-bundle", f.tarball, "--charter-verify-key", f.pub,
		"--charter-overrides", f.overrides, "--charter-poll-interval", "1s", "--charter-audit-log", auditLog, "--charter-audit-sync")
	decision := base + "/v1/data/charter/decision"

	var objs []map[string]any
	var got []decisionDoc
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pod := privilegedPod("default", c.pod)
			for _, in := range []struct {
				name  string
				input any
			}{{"object", pod}, {"AdmissionReview", review("CREATE", 0, pod)}} {
				for _, path := range []struct{ name, url string }{{"native", decision}, {"OPA", decision + "?metrics=true"}} {
					d := askDecision(t, path.url, in.input)
					msg := d.deniedUnlifted()
					if c.lifted != "" {
						msg = d.liftedBy(c.lifted)
					}
					if msg != "" {
						t.Errorf("%s override, %s, %s path: %s", c.name, in.name, path.name, msg)
					}
				}
			}
			objs = append(objs, pod)
			got = append(got, askDecision(t, decision, pod))
		})
	}
	t.Run("answers as charter eval --overrides", func(t *testing.T) {
		objs := append(objs, privilegedPod("default", "web-0"), privilegedPod("kube-public", "web-valid"))
		got := append(got, askDecision(t, decision, objs[len(objs)-2]), askDecision(t, decision, objs[len(objs)-1]))
		want := evalDecisions(t, f.tarball, f.overrides, objs)
		for i := range objs {
			v, err := verdictOf(got[i])
			if err != nil {
				t.Fatal(err)
			}
			if v.Allowed != want[i].Allowed || strings.Join(v.Findings, " ") != strings.Join(want[i].Findings, " ") {
				t.Errorf("%v: charter opa run says %+v, charter eval --overrides says %+v", objs[i]["metadata"], v, want[i])
			}
		}
	})
	t.Run("forged overrides through the REST API", func(t *testing.T) {
		refuseInjection(t, base)
	})
	t.Run("hot reload: an override added, then removed", func(t *testing.T) {
		pod := privilegedPod("default", "web-late")
		if msg := askDecision(t, decision, pod).deniedUnlifted(); msg != "" {
			t.Fatalf("before the override: %s", msg)
		}
		p := f.install(t, f.request(t, "late.yaml", "late-web", "default", "web-late", "", "30m", "alice", "bob"))
		if msg := waitFor(20*time.Second, func() string { return askDecision(t, decision, pod).liftedBy("late-web") }); msg != "" {
			t.Fatalf("after adding the override: %s", msg)
		}
		if msg := askDecision(t, decision+"?metrics=true", pod).liftedBy("late-web"); msg != "" {
			t.Errorf("after adding the override, OPA's own evaluation: %s", msg)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if msg := waitFor(20*time.Second, func() string { return askDecision(t, decision, pod).deniedUnlifted() }); msg != "" {
			t.Errorf("after removing the override: %s", msg)
		}
		// A directory that cannot be read fails closed: none of its
		// overrides counts until it is back.
		valid := privilegedPod("default", "web-valid")
		if err := os.Rename(f.overrides, f.overrides+".gone"); err != nil {
			t.Fatal(err)
		}
		if msg := waitFor(20*time.Second, func() string { return askDecision(t, decision+"?metrics=true", valid).deniedUnlifted() }); msg != "" {
			t.Errorf("with the directory gone: %s", msg)
		}
		if msg := askDecision(t, decision, valid).deniedUnlifted(); msg != "" {
			t.Errorf("with the directory gone, native path: %s", msg)
		}
		if err := os.Rename(f.overrides+".gone", f.overrides); err != nil {
			t.Fatal(err)
		}
		if msg := waitFor(20*time.Second, func() string { return askDecision(t, decision, valid).liftedBy("valid-web") }); msg != "" {
			t.Errorf("with the directory back: %s", msg)
		}
	})
	t.Run("an override starts and expires without a restart", func(t *testing.T) {
		// Far enough ahead that requesting and two approvals (CLI runs, slow
		// on a loaded machine) finish before the window opens.
		const window = 8 * time.Second
		start := time.Now().Add(10 * time.Second)
		pod := privilegedPod("default", "web-brief")
		f.install(t, f.request(t, "brief.yaml", "brief-web", "default", "web-brief", start.UTC().Format(time.RFC3339), window.String(), "alice", "bob"))
		time.Sleep(1500 * time.Millisecond) // the directory has been read again
		if time.Now().Before(start) {
			if msg := askDecision(t, decision, pod).deniedUnlifted(); msg != "" {
				t.Errorf("before notBefore: %s", msg)
			}
		}
		time.Sleep(time.Until(start.Add(500 * time.Millisecond)))
		for _, url := range []string{decision, decision + "?metrics=true"} {
			if msg := waitFor(3*time.Second, func() string { return askDecision(t, url, pod).liftedBy("brief-web") }); msg != "" {
				t.Errorf("%s inside the window: %s", url, msg)
			}
		}
		time.Sleep(time.Until(start.Add(window + 200*time.Millisecond)))
		for _, url := range []string{decision, decision + "?metrics=true"} {
			if msg := askDecision(t, url, pod).deniedUnlifted(); msg != "" {
				t.Errorf("%s after expiry: %s", url, msg)
			}
		}
	})
	data, err := os.ReadFile(auditLog)
	if err != nil || !bytes.Contains(data, []byte(`"override":"valid-web"`)) {
		t.Errorf("the audit log does not name override valid-web (%v)", err)
	}
}

// evalDecisions runs charter eval --overrides on the objects (each written
// to its own file) and returns, per object, whether it is allowed and which
// override lifted NO-PRIV ("" none).
func evalDecisions(t *testing.T, bundle, overridesDir string, objs []map[string]any) []evalVerdict {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for i, o := range objs {
		p := filepath.Join(dir, fmt.Sprintf("obj-%03d.json", i))
		data, _ := json.Marshal(o)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	r := execute(t, nil, cli(t), append([]string{"eval", "--bundle", bundle, "--overrides", overridesDir, "--output", "json"}, files...)...)
	var out struct {
		Results []struct {
			File       string `json:"file"`
			Allowed    bool   `json:"allowed"`
			Violations []struct {
				Article  string `json:"article"`
				Action   string `json:"action"`
				Override string `json:"override"`
			} `json:"violations"`
		} `json:"results"`
	}
	if err := json.Unmarshal(r.stdout, &out); err != nil || len(out.Results) != len(objs) {
		t.Fatalf("charter eval --overrides: %d results (%v): %s", len(out.Results), err, r)
	}
	verdicts := make([]evalVerdict, len(objs))
	for _, res := range out.Results {
		var i int
		if _, err := fmt.Sscanf(filepath.Base(res.File), "obj-%03d.json", &i); err != nil || i >= len(objs) {
			t.Fatalf("charter eval result for %s", res.File)
		}
		v := evalVerdict{Allowed: res.Allowed}
		for _, f := range res.Violations {
			v.Findings = append(v.Findings, f.Article+"/"+f.Action+"/"+f.Override)
		}
		verdicts[i] = v
	}
	return verdicts
}

// evalVerdict is what charter eval says of one object.
type evalVerdict struct {
	Allowed  bool
	Findings []string // article/action/override, as eval reports them
}

// verdictOf turns a decision into eval's terms: a lifted denial is a
// warning naming its override.
func verdictOf(d decisionDoc) (evalVerdict, error) {
	var full struct {
		Allowed    bool `json:"allowed"`
		Violations []struct {
			Article, Action string
		} `json:"violations"`
		Warnings []struct {
			Article, Action string
		} `json:"warnings"`
		Audits []struct {
			Article, Action string
		} `json:"audits"`
		Overridden []struct {
			Article, Override string
		} `json:"overridden"`
	}
	if err := json.Unmarshal(d.raw, &full); err != nil {
		return evalVerdict{}, err
	}
	v := evalVerdict{Allowed: full.Allowed}
	for _, l := range [][]struct{ Article, Action string }{full.Violations, full.Warnings, full.Audits} {
		for _, f := range l {
			v.Findings = append(v.Findings, f.Article+"/"+f.Action+"/")
		}
	}
	for _, f := range full.Overridden {
		v.Findings = append(v.Findings, f.Article+"/warn/"+f.Override)
	}
	return v, nil
}

// waitFor polls cond every 200 ms until it returns "" or the deadline
// passes; it returns the last message.
func waitFor(deadline time.Duration, cond func() string) string {
	end := time.Now().Add(deadline)
	for {
		msg := cond()
		if msg == "" || time.Now().After(end) {
			return msg
		}
		time.Sleep(200 * time.Millisecond)
	}
}
