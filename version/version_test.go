package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestFromBuild(t *testing.T) {
	vcs := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/charter-dev/charter", Version: "v0.0.0-20261202001339-8939495abcde+dirty"},
		Deps: []*debug.Module{
			{Path: "k8s.io/api", Version: "v0.37.2"},
			{Path: "k8s.io/apimachinery", Version: "v0.37.2"},
		},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "8939495abcdef0123456789abcdef0123456789a"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	replaced := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/charter-dev/charter", Version: "(devel)"},
		Deps: []*debug.Module{{Path: "k8s.io/apimachinery", Version: "v0.36.0", Replace: &debug.Module{Path: "k8s.io/apimachinery", Version: "v0.37.1"}}},
	}
	cases := []struct {
		name  string
		stamp stamp
		bi    *debug.BuildInfo
		want  Info
	}{
		{"stamped release wins over VCS", stamp{"v1.2.3", "0123456789abcdef", false}, vcs,
			Info{Version: "v1.2.3", Commit: "0123456789abcdef", Kubernetes: "v0.37.2"}},
		{"stamped build of a modified tree", stamp{"v1.2.3", "0123456789abcdef", true}, nil,
			Info{Version: "v1.2.3", Commit: "0123456789abcdef", Modified: true, Kubernetes: "unknown"}},
		{"plain go build: pseudo-version and VCS revision", stamp{}, vcs,
			Info{Version: "v0.0.0-20261202001339-8939495abcde+dirty", Commit: "8939495abcdef0123456789abcdef0123456789a", Modified: true, Kubernetes: "v0.37.2"}},
		{"devel build with a replaced module", stamp{}, replaced,
			Info{Version: "devel", Commit: "unknown", Kubernetes: "v0.37.1"}},
		{"no build information", stamp{}, nil,
			Info{Version: "devel", Commit: "unknown", Kubernetes: "unknown"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := fromBuild(tc.stamp, tc.bi)
			tc.want.GoVersion, tc.want.OPA, tc.want.Platform = runtime.Version(), "v1.22.3", runtime.GOOS+"/"+runtime.GOARCH
			if got != tc.want {
				t.Errorf("fromBuild = %+v\nwant        %+v", got, tc.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		i    Info
		want string
	}{
		{Info{Version: "v1.2.3", Commit: "8939495abcdef0123456789"}, "v1.2.3 (commit 8939495abcde)"},
		{Info{Version: "devel", Commit: "unknown", Modified: true}, "devel (commit unknown, modified)"},
	} {
		if got := tc.i.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.i, got, tc.want)
		}
	}
}

func TestBuildInfoMetric(t *testing.T) {
	i := Info{Version: "v1.2.3", Commit: "abc", GoVersion: "go1.26.8", OPA: "v1.22.3", Kubernetes: "v0.37.2"}
	want := `# HELP charter_build_info The charter build: 1, labelled with its version, commit, Go, OPA and Kubernetes library versions.
# TYPE charter_build_info gauge
charter_build_info{commit="abc",goversion="go1.26.8",kubernetes_version="v0.37.2",opa_version="v1.22.3",version="v1.2.3"} 1
`
	if err := testutil.CollectAndCompare(BuildInfoMetric(i), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
