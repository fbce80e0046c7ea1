package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/charter-dev/charter/test/e2e/cluster"
)

var env *cluster.Cluster

// TestMain starts one control plane for all scenarios. If the binaries are
// missing it builds them (`make e2e-tools`); only when that build fails do the
// tests skip, saying why.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := cluster.Root()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if _, _, err := cluster.Binaries(root); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v; building them now (about 7 minutes on 2 cores, once)\n", err)
		if err := cluster.Build(root); err != nil {
			skipReason = "kube-apiserver and etcd could not be built: " + err.Error()
			return m.Run()
		}
	}
	dir, err := os.MkdirTemp("", "charter-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	env, err = cluster.Start(context.Background(), root, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start control plane:", err)
		return 1
	}
	code := m.Run()
	env.Stop()
	if code == 0 {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintln(os.Stderr, "e2e: control plane state and logs kept in", dir)
	}
	return code
}

var skipReason string

// needCluster skips only when the control plane binaries could not be built.
func needCluster(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip("SKIP e2e: " + skipReason)
	}
}
