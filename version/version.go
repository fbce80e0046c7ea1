package version

import (
	"runtime"
	"runtime/debug"
	"strings"

	opaversion "github.com/open-policy-agent/opa/v1/version"
)

// Stamped by release builds:
//
//	go build -ldflags "-X github.com/charter-dev/charter/version.version=v0.1.0 \
//	  -X github.com/charter-dev/charter/version.commit=SHA -X github.com/charter-dev/charter/version.modified=false"
//
// Empty in other builds; Get then falls back to the build information.
var (
	version  string
	commit   string
	modified string // "true" when built from a tree with uncommitted changes
)

// stamp is what a release build stamped.
type stamp struct {
	version, commit string
	modified        bool
}

// kubernetesModule is the Kubernetes library whose version Get reports: the
// API machinery every Kubernetes client library of a release shares.
const kubernetesModule = "k8s.io/apimachinery"

// Info is what `charter version -o json` prints. Its fields are a wire
// format: renamed never, added only.
type Info struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`
	Modified   bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	GoVersion  string `json:"goVersion"`
	OPA        string `json:"opaVersion"`
	Kubernetes string `json:"kubernetesVersion"`
	Platform   string `json:"platform"`
}

// Get is this binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuild(stamp{version, commit, modified == "true"}, bi)
}

// fromBuild fills Info from the stamped values where present, else from the
// build information (nil when the binary carries none).
func fromBuild(s stamp, bi *debug.BuildInfo) Info {
	i := Info{
		Version:   s.version,
		Commit:    s.commit,
		Modified:  s.modified,
		GoVersion: runtime.Version(),
		OPA:       "v" + strings.TrimPrefix(opaversion.Version, "v"),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if s.commit == "" {
			for _, setting := range bi.Settings {
				switch setting.Key {
				case "vcs.revision":
					i.Commit = setting.Value
				case "vcs.modified":
					i.Modified = setting.Value == "true"
				}
			}
		}
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			// go install .../cmd/charter@v1.2.3, or the pseudo-version the
			// toolchain derives from VCS for a plain go build.
			i.Version = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == kubernetesModule {
				i.Kubernetes = d.Version
				if d.Replace != nil {
					i.Kubernetes = d.Replace.Version
				}
			}
		}
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	if i.Kubernetes == "" {
		i.Kubernetes = "unknown"
	}
	return i
}

// String is the one-line form used in startup log lines.
func (i Info) String() string {
	s := i.Version + " (commit " + short(i.Commit)
	if i.Modified {
		s += ", modified"
	}
	return s + ")"
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
