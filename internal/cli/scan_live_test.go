package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/report"
	"github.com/charter-dev/charter/report/reporttest"
)

// TestScanLiveUndecided: a live audit scan reports an object whose decision
// fails, as a scan of files does, and goes on with the others; the run
// exits 2 naming it (review finding: the scan stopped there and the object
// was missing from the report).
func TestScanLiveUndecided(t *testing.T) {
	ctx := context.Background()
	ch := filepath.Join(t.TempDir(), "conflict.yaml")
	if err := os.WriteFile(ch, []byte(conflictCharter), 0o644); err != nil {
		t.Fatal(err)
	}
	p := policyOptions{Charters: []string{ch}}
	e, _, err := p.load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cm := func(name string, data map[string]any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name, "namespace": "a"}, "data": data}
	}
	c := fakeCluster(
		cm("one", map[string]any{"x": "1"}),
		cm("two", map[string]any{"x": "1", "y": "2"}),
		map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "np", "namespace": "a"}, "spec": map[string]any{"type": "NodePort"}},
	)
	var out bytes.Buffer
	r := &reportRun{writer: report.SARIF{}, out: bufio.NewWriter(&out), progress: newProgress(io.Discard)}
	err = r.scanCluster(ctx, c, clusterOptions{ChunkSize: 500}, e, false, io.Discard)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != ExitBadInput || !strings.Contains(err.Error(), "ConfigMap a/two: evaluate: ") {
		t.Fatalf("err = %v, want exit 2 naming ConfigMap a/two", err)
	}
	reporttest.ValidateSARIF(t, out.Bytes())
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID  string
				Message struct{ Text string }
			}
		}
	}
	if err := json.Unmarshal(out.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, res := range log.Runs[0].Results {
		got = append(got, res.RuleID)
		if res.RuleID == report.DecisionErrorRule && !strings.Contains(res.Message.Text, "object keys must be unique") {
			t.Errorf("error result %q does not name the error", res.Message.Text)
		}
	}
	if strings.Join(got, " ") != report.DecisionErrorRule+" P-1" {
		t.Errorf("results %v, want the undecided ConfigMap and the Service's denial", got)
	}
	if r.objects != 3 || r.denied != 1 {
		t.Errorf("%d objects, %d denied; want 3 and 1", r.objects, r.denied)
	}
}
