package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/internal/chartergen"
	"github.com/charter-dev/charter/internal/manifest"
)

// pair loads a charter twice: native evaluation and OPA alone.
func pair(t testing.TB, path string) (native, opa *Engine) {
	t.Helper()
	b, _, err := bundles.FromCharters([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	return pairBundle(t, b)
}

// pairBundle loads a bundle twice: native evaluation and OPA alone.
func pairBundle(t testing.TB, b *bundles.Bundle) (native, opa *Engine) {
	t.Helper()
	native, err := New(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if opa, err = New(context.Background(), b, OPAOnly()); err != nil {
		t.Fatal(err)
	}
	if !native.Native() || opa.Native() {
		t.Fatal("engines do not take the paths asked for")
	}
	return native, opa
}

// sameDecision decides in natively and with OPA alone, stops the test
// unless both decide it alike (findings, messages, paths, order), and
// returns the decision.
func sameDecision(t testing.TB, native, opa *Engine, what string, in map[string]any) Decision {
	t.Helper()
	want, err := opa.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := native.Decide(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		js, _ := json.Marshal(in)
		t.Fatalf("%s: native and OPA disagree on %s\nnative: %+v\nopa:    %+v", what, js, got, want)
	}
	return got
}

// corpus is every object the repository ships as test data, raw and as
// AdmissionReviews for CREATE and DELETE.
func corpus(t testing.TB) []map[string]any {
	t.Helper()
	var files []string
	for _, dir := range []string{"../policies/testdata", "../examples/manifests", "../webhook/testdata", "testdata"} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (filepath.Ext(p) == ".yaml" || filepath.Ext(p) == ".json") {
				files = append(files, p)
			}
			return nil
		})
	}
	docs, _ := manifest.Read(files, nil)
	var out []map[string]any
	for _, d := range docs {
		if d.Object["kind"] == "Charter" {
			continue
		}
		out = append(out, d.Object)
		if d.Object["kind"] != "AdmissionReview" {
			out = append(out, review("CREATE", "object", d.Object), review("DELETE", "oldObject", d.Object))
		}
	}
	if len(out) < 100 {
		t.Fatalf("corpus has %d objects", len(out))
	}
	return out
}

func review(op, key string, obj map[string]any) map[string]any {
	ns, _ := obj["metadata"].(map[string]any)
	return map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{"uid": "u", "operation": op, "namespace": ns["namespace"], key: obj}}
}

// mutationsPerObject is raised locally to hunt for disagreements (NATIVE_MUTATIONS=200).
var mutationsPerObject = envInt("NATIVE_MUTATIONS", 8)

var charters = []string{
	"../policies/anti-delos.yaml",
	"../policies/pod-security-baseline.yaml",
	"../policies/pod-security-restricted.yaml",
	"testdata/charter.yaml",
	"testdata/edges.yaml",
	"testdata/podtemplates.yaml",
	"../compiler/testdata/golden/constructs.yaml",
	"testdata/quantities.yaml",
}

// TestNativeMatchesOPA: the native path decides exactly as OPA does
// (findings, messages, paths, order) on every shipped object, and on
// thousands of random mutations of them.
func TestNativeMatchesOPA(t *testing.T) {
	objects := corpus(t)
	rng := rand.New(rand.NewPCG(uint64(envInt("NATIVE_SEED", 7)), 11))
	mutated := 0
	for _, path := range charters {
		t.Run(filepath.Base(path), func(t *testing.T) {
			native, opa := pair(t, path)
			for i, obj := range objects {
				sameDecision(t, native, opa, fmt.Sprintf("object %d", i), obj)
				for range mutationsPerObject {
					m := chartergen.DeepCopy(obj).(map[string]any)
					mutate(rng, m, 3)
					sameDecision(t, native, opa, fmt.Sprintf("mutation of object %d", i), m)
					mutated++
				}
			}
		})
	}
	t.Logf("%d objects × %d charters, %d mutations: native == OPA", len(objects), len(charters), mutated)
}

// values a mutation may write: the edge cases of the language's semantics.
var mutations = []any{
	nil, true, false, 0, 1, -1, 0.5, "", "true", "0", "500m", "2Gi", "1e3", "500n", "1u", "1.5e-3", "9Ei", "0.1n", "1Gb", "x", "ALL", "RuntimeDefault",
	"Unconfined", "Localhost", "runtime/default", "localhost/p", "/etc", "/var/run/docker.sock",
	"nginx:latest", "registry.k8s.io/pause:3.9", "docker.io/library/nginx@sha256:0", "kube-system",
	[]any{}, []any{"SYS_ADMIN"}, []any{"NET_BIND_SERVICE", nil}, map[string]any{}, map[string]any{"type": "Unconfined"},
	map[string]any{"privileged": true}, map[string]any{"path": "/"}, []any{map[string]any{"hostPort": 80}},
}

var keys = []string{"privileged", "hostNetwork", "hostPID", "securityContext", "capabilities", "add", "drop", "runAsUser",
	"runAsNonRoot", "seccompProfile", "type", "appArmorProfile", "image", "resources", "limits", "memory", "cpu",
	"volumes", "hostPath", "labels", "annotations", "namespace", "kind", "apiVersion", "allowPrivilegeEscalation",
	"sysctls", "name", "value", "procMount", "ports", "hostPort", "containers", "initContainers", "tls", "hosts"}

// mutate sets, replaces or deletes random fields at random depths.
func mutate(rng *rand.Rand, m map[string]any, n int) {
	for range n {
		target := chartergen.Nested(rng, m)
		key := keys[rng.IntN(len(keys))]
		if rng.IntN(4) == 0 {
			for k := range target {
				key = k
				break
			}
		}
		if rng.IntN(5) == 0 {
			delete(target, key)
			continue
		}
		target[key] = chartergen.DeepCopy(mutations[rng.IntN(len(mutations))])
	}
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err != nil || n <= 0 {
		return def
	}
	return n
}
