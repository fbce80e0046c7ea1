package policies

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The two Pod Security Standards charters.
const (
	pssBaselineFile   = "pod-security-baseline.yaml"
	pssRestrictedFile = "pod-security-restricted.yaml"
)

// pssArticles maps every upstream check of k8s.io/pod-security-admission to
// the article that implements it. docs/pss.md carries the same table.
var pssArticles = map[policy.CheckID]string{
	"hostNamespaces":             "pss-baseline-host-namespaces",
	"privileged":                 "pss-baseline-privileged",
	"capabilities_baseline":      "pss-baseline-capabilities",
	"hostPathVolumes":            "pss-baseline-host-path-volumes",
	"hostPorts":                  "pss-baseline-host-ports",
	"hostProbesAndHostLifecycle": "pss-baseline-host-probes-and-lifecycle",
	"appArmorProfile":            "pss-baseline-apparmor",
	"seLinuxOptions":             "pss-baseline-selinux",
	"procMount":                  "pss-baseline-proc-mount",
	"seccompProfile_baseline":    "pss-baseline-seccomp",
	"sysctls":                    "pss-baseline-sysctls",
	"windowsHostProcess":         "pss-baseline-windows-host-process",
	"restrictedVolumes":          "pss-restricted-volume-types",
	"allowPrivilegeEscalation":   "pss-restricted-privilege-escalation",
	"runAsNonRoot":               "pss-restricted-run-as-non-root",
	"runAsUser":                  "pss-restricted-run-as-user",
	"seccompProfile_restricted":  "pss-restricted-seccomp",
	"capabilities_restricted":    "pss-restricted-capabilities",
	"procMount_restricted":       "pss-restricted-proc-mount",
}

// pssCharter is one compiled PSS charter with its engine, built once per test binary.
type pssCharter struct {
	charter *charter.Charter
	engine  *engine.Engine
}

var (
	pssOnce     sync.Once
	pssCharters map[api.Level]*pssCharter
	pssErr      error
)

// pssEngines loads, compiles and bundles both charters once, and returns them by level.
func pssEngines(t testing.TB) map[api.Level]*pssCharter {
	t.Helper()
	pssOnce.Do(func() {
		pssCharters = map[api.Level]*pssCharter{}
		for level, file := range map[api.Level]string{api.LevelBaseline: pssBaselineFile, api.LevelRestricted: pssRestrictedFile} {
			c, err := charter.Load(file)
			if err != nil {
				pssErr = fmt.Errorf("load %s:\n%v", file, err)
				return
			}
			out, err := compiler.Compile(c)
			if err != nil {
				pssErr = fmt.Errorf("compile %s:\n%v", file, err)
				return
			}
			b, err := bundles.Compile(out)
			if err != nil {
				pssErr = fmt.Errorf("bundle %s: %v", file, err)
				return
			}
			e, err := engine.New(context.Background(), b)
			if err != nil {
				pssErr = fmt.Errorf("engine for %s: %v", file, err)
				return
			}
			pssCharters[level] = &pssCharter{charter: c, engine: e}
		}
	})
	if pssErr != nil {
		t.Fatal(pssErr)
	}
	return pssCharters
}

// pssOracle is the upstream library at policy version latest, with the check
// id behind every result it returns.
type pssOracle struct {
	evaluator policy.Evaluator
	ids       map[api.Level][]policy.CheckID // in the evaluator's result order
	overrides map[policy.CheckID]policy.CheckID
	// overridden holds the articles of overridden baseline checks.
	overridden map[string]bool
}

func newPSSOracle(t testing.TB) *pssOracle {
	t.Helper()
	checks := policy.DefaultChecks()
	ev, err := policy.NewEvaluator(checks, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &pssOracle{evaluator: ev, ids: map[api.Level][]policy.CheckID{}, overrides: map[policy.CheckID]policy.CheckID{}, overridden: map[string]bool{}}
	// The registry orders results by check id, baseline first, and drops the
	// baseline checks a restricted check overrides at the version in force.
	var baseline, restricted []policy.CheckID
	for _, c := range checks {
		latest := c.Versions[len(c.Versions)-1]
		if c.Level == api.LevelBaseline {
			baseline = append(baseline, c.ID)
			continue
		}
		restricted = append(restricted, c.ID)
		for _, id := range latest.OverrideCheckIDs {
			o.overrides[id] = c.ID
			o.overridden[pssArticles[id]] = true
		}
	}
	sort.Slice(baseline, func(i, j int) bool { return baseline[i] < baseline[j] })
	sort.Slice(restricted, func(i, j int) bool { return restricted[i] < restricted[j] })
	o.ids[api.LevelBaseline] = baseline
	for _, id := range baseline {
		if _, over := o.overrides[id]; !over {
			o.ids[api.LevelRestricted] = append(o.ids[api.LevelRestricted], id)
		}
	}
	o.ids[api.LevelRestricted] = append(o.ids[api.LevelRestricted], restricted...)
	// Prove the order: each check alone must give the result found at its index.
	pod := &corev1.Pod{Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c"}}}}
	for level, ids := range o.ids {
		got := ev.EvaluatePod(api.LevelVersion{Level: level, Version: api.LatestVersion()}, &pod.ObjectMeta, &pod.Spec)
		if len(got) != len(ids) {
			t.Fatalf("%s: upstream returned %d results for %d checks", level, len(got), len(ids))
		}
		for i, id := range ids {
			var alone policy.Check
			for _, c := range checks {
				if c.ID == id {
					alone = c
				}
			}
			single, err := policy.NewEvaluator([]policy.Check{alone}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := single.EvaluatePod(api.LevelVersion{Level: alone.Level, Version: api.LatestVersion()}, &pod.ObjectMeta, &pod.Spec)
			if len(want) != 1 || want[0] != got[i] {
				t.Fatalf("%s: result %d is not check %s: %+v vs %+v", level, i, id, got[i], want)
			}
		}
	}
	return o
}

// pssVerdict is what one side decided about one pod.
type pssVerdict struct {
	Allowed  bool
	Articles []string // sorted, distinct
	Detail   string
}

// evaluate returns the failed checks of a pod at a level, by id, with their reasons.
func (o *pssOracle) evaluate(level api.Level, pod *corev1.Pod) map[policy.CheckID]string {
	res := o.evaluator.EvaluatePod(api.LevelVersion{Level: level, Version: api.LatestVersion()}, &pod.ObjectMeta, &pod.Spec)
	failed := map[policy.CheckID]string{}
	for i, r := range res {
		if !r.Allowed {
			failed[o.ids[level][i]] = r.ForbiddenReason + ": " + r.ForbiddenDetail
		}
	}
	return failed
}

// expect is the verdict the charter of a level must reach: upstream's failed
// checks as articles. At the restricted level upstream skips the baseline
// checks a restricted check overrides (OverrideCheckIDs), while the restricted
// charter still holds their articles: the comparison of article sets leaves
// those out (see pssComparable); the decision must match all the same.
func (o *pssOracle) expect(level api.Level, pod *corev1.Pod) pssVerdict {
	failed := o.evaluate(level, pod)
	v := pssVerdict{Allowed: len(failed) == 0}
	var reasons []string
	add := func(id policy.CheckID, why string) {
		v.Articles = append(v.Articles, pssArticles[id])
		reasons = append(reasons, fmt.Sprintf("%s (%s): %s", id, pssArticles[id], why))
	}
	for id, why := range failed {
		add(id, why)
	}
	sort.Strings(v.Articles)
	sort.Strings(reasons)
	v.Detail = strings.Join(reasons, "\n")
	return v
}

// pssDecide runs the charter over one object.
func pssDecide(e *engine.Engine, obj map[string]any) (pssVerdict, error) {
	d, err := e.Decide(context.Background(), obj)
	if err != nil {
		return pssVerdict{}, err
	}
	v := pssVerdict{Allowed: d.Allowed}
	seen := map[string]bool{}
	var lines []string
	for _, f := range d.All() {
		lines = append(lines, fmt.Sprintf("%s %s at %s: %s", f.Action, f.Article, f.Path, f.Message))
		if f.Action != "deny" {
			return v, fmt.Errorf("finding with action %s: %s", f.Action, lines[len(lines)-1])
		}
		if !seen[f.Article] {
			seen[f.Article] = true
			v.Articles = append(v.Articles, f.Article)
		}
	}
	sort.Strings(v.Articles)
	sort.Strings(lines)
	v.Detail = strings.Join(lines, "\n")
	return v, nil
}

// comparable drops the articles of overridden baseline checks at the restricted level.
func (o *pssOracle) comparable(level api.Level, articles []string) string {
	var keep []string
	for _, a := range articles {
		if level == api.LevelRestricted && o.overridden[a] {
			continue
		}
		keep = append(keep, a)
	}
	return strings.Join(keep, ",")
}

// same reports whether the charter's verdict got matches upstream's want.
func (o *pssOracle) same(level api.Level, got, want pssVerdict) bool {
	return got.Allowed == want.Allowed && o.comparable(level, got.Articles) == o.comparable(level, want.Articles)
}

// pssKinds are the workload kinds a Pod rule must cover, "Pod" first.
var pssKinds = []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "ReplicationController", "PodTemplate"}

// pssWrap puts a pod's metadata and spec where kind keeps its pod template.
func pssWrap(pod map[string]any, kind string) map[string]any {
	template := map[string]any{"metadata": pod["metadata"], "spec": pod["spec"]}
	meta := map[string]any{"name": "wrapped", "namespace": "default"}
	api := map[string]string{
		"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1",
		"Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1", "PodTemplate": "v1",
	}[kind]
	switch kind {
	case "Pod":
		return pod
	case "PodTemplate":
		return map[string]any{"apiVersion": api, "kind": kind, "metadata": meta, "template": template}
	case "CronJob":
		return map[string]any{"apiVersion": api, "kind": kind, "metadata": meta, "spec": map[string]any{
			"schedule": "0 * * * *", "jobTemplate": map[string]any{"spec": map[string]any{"template": template}},
		}}
	}
	return map[string]any{"apiVersion": api, "kind": kind, "metadata": meta, "spec": map[string]any{"template": template}}
}

// pssTyped decodes a pod the way the API server does: case-sensitive JSON.
func pssTyped(obj map[string]any) (*corev1.Pod, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	pod := &corev1.Pod{}
	strict, err := sigsjson.UnmarshalStrict(data, pod)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("not a valid pod: %v", strict)
	}
	return pod, nil
}

// pssYAML renders an object for a mismatch report.
func pssYAML(obj any) string {
	out, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Sprintf("%#v", obj)
	}
	return string(out)
}

// pssReadObject reads one YAML manifest into JSON-compatible values.
func pssReadObject(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return obj, nil
}

// pssUpstreamDir is the module directory of k8s.io/pod-security-admission,
// downloaded into the module cache if it is not there yet.
func pssUpstreamDir(t testing.TB) string {
	t.Helper()
	list := func() string {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/pod-security-admission").Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	dir := list()
	if _, err := os.Stat(filepath.Join(dir, "test", "testdata")); dir == "" || err != nil {
		if out, err := exec.Command("go", "mod", "download", "k8s.io/pod-security-admission").CombinedOutput(); err != nil {
			t.Fatalf("go mod download k8s.io/pod-security-admission: %v\n%s", err, out)
		}
		dir = list()
	}
	if dir == "" {
		t.Fatal("k8s.io/pod-security-admission is not in the module cache")
	}
	return dir
}

// pssLatestFixtures returns the pass and fail fixtures of the highest policy
// version shipped for a level, and that version.
func pssLatestFixtures(t testing.TB, dir string, level api.Level) (version string, pass, fail []string) {
	t.Helper()
	root := filepath.Join(dir, "test", "testdata", string(level))
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	best := -1
	for _, e := range entries {
		minor, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "v1."))
		if e.IsDir() && strings.HasPrefix(e.Name(), "v1.") && err == nil && minor > best {
			best, version = minor, e.Name()
		}
	}
	if best < 0 {
		t.Fatalf("no v1.N fixture directories under %s", root)
	}
	glob := func(sub string) []string {
		files, err := filepath.Glob(filepath.Join(root, version, sub, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	return version, glob("pass"), glob("fail")
}
