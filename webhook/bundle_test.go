package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
)

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// Write then rename, as a ConfigMap update or `cp` to a temp file would.
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// rejections is the loader's charter_bundle_rejections_total for reason.
func rejections(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "charter_bundle_rejections_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no charter_bundle_rejections_total{reason=%q}", reason)
	return 0
}

func TestHolderReload(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "charter.yaml")
	copyFile(t, "testdata/charter.yaml", path)
	m := NewMetrics(nil)
	reg := prometheus.NewRegistry()
	h := NewHolder(path, HolderOptions{Metrics: m, Registry: reg, Logger: quiet})
	if h.Ready() || h.Current() != nil {
		t.Fatal("ready before loading")
	}
	if err := h.Load(ctx); err != nil {
		t.Fatal(err)
	}
	first := h.Current().Revision()
	if !h.Ready() || testutil.ToFloat64(m.BundleInfo.WithLabelValues(first)) != 1 {
		t.Fatal("not ready after loading, or revision metric missing")
	}

	t.Run("unchanged file is not reloaded", func(t *testing.T) {
		changed, err := h.Reload(ctx)
		if err != nil || changed {
			t.Fatalf("Reload = %v, %v; want false, nil", changed, err)
		}
	})

	t.Run("broken bundle is rejected and the last good keeps enforcing", func(t *testing.T) {
		if err := os.WriteFile(path, []byte("apiVersion: charter.dev/v1\nkind: Charter\nspec: {articles: [{id: 1}]}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		changed, err := h.Reload(ctx)
		if err == nil || changed {
			t.Fatalf("Reload = %v, %v; want an error", changed, err)
		}
		if got := h.Current().Revision(); got != first {
			t.Fatalf("revision = %s, want the last good %s", got, first)
		}
		if got := rejections(t, reg, "invalid"); got != 1 {
			t.Errorf(`charter_bundle_rejections_total{reason="invalid"} = %v, want 1`, got)
		}
		// The same broken file is not retried (and logged) on every poll.
		if changed, err := h.Reload(ctx); err != nil || changed {
			t.Errorf("second Reload of the same broken file = %v, %v", changed, err)
		}
		resp := decodeResponse(t, post(NewHandler(HandlerOptions{Source: h, Logger: quiet}), "application/json",
			mustJSON(t, review("CREATE", podObject("default", privileged)))))
		if resp.Allowed {
			t.Error("the last good bundle stopped enforcing")
		}
	})

	t.Run("changed bundle is swapped in", func(t *testing.T) {
		copyFile(t, "testdata/charter-v2.yaml", path)
		changed, err := h.Reload(ctx)
		if err != nil || !changed {
			t.Fatalf("Reload = %v, %v; want true, nil", changed, err)
		}
		second := h.Current().Revision()
		if second == first {
			t.Fatal("revision did not change")
		}
		if testutil.ToFloat64(m.BundleInfo.WithLabelValues(second)) != 1 || testutil.ToFloat64(m.BundleInfo.WithLabelValues(first)) != 0 {
			t.Error("charter_bundle_info does not show only the new revision")
		}
		resp := decodeResponse(t, post(NewHandler(HandlerOptions{Source: h, Logger: quiet}), "application/json",
			mustJSON(t, review("CREATE", podObject("default", privileged)))))
		if resp.Allowed || resp.Result.Message[:8] != "[AD-101]" {
			t.Errorf("new bundle not in force: %+v", resp.Result)
		}
	})
}

// TestHolderWatchUnderLoad swaps bundles back and forth while requests flow
// (run with -race): every request is decided by exactly one whole bundle.
func TestHolderWatchUnderLoad(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	path := filepath.Join(dir, "charter.yaml")
	copyFile(t, "testdata/charter.yaml", path)
	h := NewHolder(path, HolderOptions{Logger: quiet})
	if err := h.Load(ctx); err != nil {
		t.Fatal(err)
	}
	go h.Watch(ctx, time.Millisecond)
	handler := NewHandler(HandlerOptions{Source: h, Logger: quiet})
	body := mustJSON(t, review("CREATE", podObject("default", privileged)))
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			// Not decodeResponse: t.Fatal here would end this goroutine
			// and leave the test waiting on done.
			w := post(handler, "application/json", body)
			var ar admissionv1.AdmissionReview
			if err := json.Unmarshal(w.Body.Bytes(), &ar); w.Code != http.StatusOK || err != nil || ar.Response == nil {
				t.Errorf("status %d: %s", w.Code, w.Body.String())
				<-stop
				done <- n
				return
			}
			if resp := ar.Response; resp.Allowed {
				t.Error("a request was admitted during a reload")
			}
			n++
		}
	}()
	for i := range 6 {
		src := "testdata/charter.yaml"
		if i%2 == 0 {
			src = "testdata/charter-v2.yaml"
		}
		prev := h.Current().Revision()
		copyFile(t, src, path)
		waitFor(t, func() bool { return h.Current().Revision() != prev })
	}
	close(stop)
	if n := <-done; n == 0 {
		t.Error("no requests were made during the reloads")
	}
}

// waitFor polls cond without a deadline of its own: the test binary's
// -timeout is the only clock, so slow machines never fail it.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

// TestHolderReloadsIncludes: a charter is reloaded when a charter it includes
// (in its directory) changes, not only when the file itself does.
func TestHolderReloadsIncludes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	base := filepath.Join(dir, "base.yaml")
	top := filepath.Join(dir, "top.yaml")
	article := func(id string) string {
		return "  - {id: " + id + ", title: t, match: {kinds: [Service]}, violation: {path: object.spec.type, op: equals, value: NodePort}, message: m}\n"
	}
	head := func(name string) string {
		return "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: " + name + "}\nspec:\n"
	}
	if err := os.WriteFile(base, []byte(head("base")+"  articles:\n"+article("B-1")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(top, []byte(head("top")+"  include: [base.yaml]\n  articles:\n"+article("T-1")), 0o644); err != nil {
		t.Fatal(err)
	}
	h := NewHolder(top, HolderOptions{Logger: quiet})
	if err := h.Load(ctx); err != nil {
		t.Fatal(err)
	}
	first := h.Current().Revision()
	time.Sleep(10 * time.Millisecond) // a distinct modification time
	if err := os.WriteFile(base, []byte(head("base")+"  articles:\n"+article("B-1")+article("B-2")), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := h.Reload(ctx)
	if err != nil || !changed || h.Current().Revision() == first {
		t.Fatalf("Reload after an include changed = %v, %v (revision %s, was %s)", changed, err, h.Current().Revision(), first)
	}
}

// TestHolderRefusesClusterQueries: without a cluster data cache, a bundle
// whose articles query cluster data is refused, not enforced with every
// "exists" false and every "absent" true.
func TestHolderRefusesClusterQueries(t *testing.T) {
	h := NewHolder("../examples/charters/cluster-data.yaml", HolderOptions{Logger: quiet})
	err := h.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "query cluster data (kinds ") || !strings.Contains(err.Error(), "StorageClass") ||
		!strings.Contains(err.Error(), "the webhook has no cluster data source: serve with --cluster-data") {
		t.Fatalf("Load = %v, want the cluster-data refusal naming the kinds", err)
	}
	if h.Ready() {
		t.Error("ready on a refused bundle")
	}
}
