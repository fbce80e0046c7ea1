package engine

import (
	"context"
	"strings"
	"testing"
)

func TestDecideRuntime(t *testing.T) {
	e := load(t, "../policies/anti-delos.yaml")
	cases := []struct {
		name    string
		ev      RuntimeEvent
		article string // "" for no finding
	}{
		{"shell exec", RuntimeEvent{Kind: "exec", Path: "/bin/sh"}, "AD-017"},
		{"allowed exec", RuntimeEvent{Kind: "exec", Path: "/usr/bin/python3"}, ""},
		{"hard link to a shell", RuntimeEvent{Kind: "exec", Path: "/tmp/x", SameFileAs: []string{"/bin/bash", "/usr/bin/bash"}}, "AD-017"},
		{"memfd", RuntimeEvent{Kind: "exec", Path: "/memfd:x (deleted)", Fileless: true}, "AD-017"},
		{"metadata endpoint", RuntimeEvent{Kind: "connect", Dest: &Dest{Addr: "169.254.169.254", Port: 80}}, "AD-018"},
		{"metadata endpoint v6", RuntimeEvent{Kind: "connect", Dest: &Dest{Addr: "fd00:ec2::254", Port: 80}}, "AD-018"},
		{"other address", RuntimeEvent{Kind: "connect", Dest: &Dest{Addr: "10.0.0.1", Port: 443}}, ""},
		{"write under /etc", RuntimeEvent{Kind: "open", Path: "/etc/passwd", Write: true}, "AD-019"},
		{"read under /etc", RuntimeEvent{Kind: "open", Path: "/etc/passwd", Read: true}, ""},
		{"prefix is a directory", RuntimeEvent{Kind: "open", Path: "/etcetera", Write: true}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := e.DecideRuntime(context.Background(), tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.article == "" && len(fs) > 0:
				t.Errorf("findings = %+v, want none", fs)
			case tc.article != "" && (len(fs) != 1 || fs[0].Article != tc.article || fs[0].Message == ""):
				t.Errorf("findings = %+v, want one of %s", fs, tc.article)
			}
		})
	}
}

// TestRuntimePathsWithoutSlash: a rule path without a trailing slash covers
// the path and everything below it, as the kernel maps do (agent/entries.go).
func TestRuntimePathsWithoutSlash(t *testing.T) {
	e := load(t, "testdata/runtime.yaml")
	for _, tc := range []struct {
		ev   RuntimeEvent
		want int
	}{
		{RuntimeEvent{Kind: "exec", Path: "/opt/tools"}, 1},
		{RuntimeEvent{Kind: "exec", Path: "/opt/tools/nc"}, 1},
		{RuntimeEvent{Kind: "exec", Path: "/opt/toolsmith"}, 0},
		{RuntimeEvent{Kind: "open", Path: "/etc/passwd", Write: true}, 1},
		{RuntimeEvent{Kind: "open", Path: "/etc", Write: true}, 1},
		{RuntimeEvent{Kind: "open", Path: "/etcd/x", Write: true}, 0},
		{RuntimeEvent{Kind: "open", Path: "/root/.ssh/id_rsa", Read: true}, 1},
		{RuntimeEvent{Kind: "open", Path: "/root/.ssh/id_rsa", Write: true}, 0}, // write-only: not a read
	} {
		fs, err := e.DecideRuntime(context.Background(), tc.ev)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != tc.want || tc.want == 1 && fs[0].Action != "audit" {
			t.Errorf("%+v: findings %+v, want %d", tc.ev, fs, tc.want)
		}
	}
}

// TestRuntimePostures: identity (sameFileAs), fileless execs, exec and
// connect allow-lists, and ports in deny rules, as the kernel decides them.
func TestRuntimePostures(t *testing.T) {
	e := load(t, "testdata/runtime-postures.yaml")
	v4 := func(addr string, port int) *Dest { return &Dest{Addr: addr, Port: port} }
	for _, tc := range []struct {
		name string
		ev   RuntimeEvent
		want []string // articles, sorted
	}{
		{"allowed binary", RuntimeEvent{Kind: "exec", Path: "/app/server", SameFileAs: []string{"/app/server"}}, nil},
		{"allowed binary through a hard link", RuntimeEvent{Kind: "exec", Path: "/tmp/srv", SameFileAs: []string{"/app/server"}}, nil},
		{"copy of an allowed binary", RuntimeEvent{Kind: "exec", Path: "/tmp/server"}, []string{"R-ALLOW"}},
		{"allowed path, other file", RuntimeEvent{Kind: "exec", Path: "/app/server"}, []string{"R-ALLOW"}},
		{"hard link to bash", RuntimeEvent{Kind: "exec", Path: "/tmp/x", SameFileAs: []string{"/bin/bash"}}, []string{"R-ALLOW", "R-DENY"}},
		{"bash by path", RuntimeEvent{Kind: "exec", Path: "/bin/bash", SameFileAs: []string{"/bin/bash"}}, []string{"R-ALLOW", "R-DENY"}},
		{"memfd", RuntimeEvent{Kind: "exec", Path: "/memfd:x (deleted)", Fileless: true}, []string{"R-ALLOW", "R-DENY"}},
		{"metadata port 80", RuntimeEvent{Kind: "connect", Dest: v4("169.254.169.254", 80)}, []string{"R-ALLOW", "R-DENY"}},
		{"metadata port 443 is not in the deny rule", RuntimeEvent{Kind: "connect", Dest: v4("169.254.169.254", 443)}, []string{"R-ALLOW"}},
		{"database", RuntimeEvent{Kind: "connect", Dest: v4("10.1.2.3", 5432)}, nil},
		{"database v6", RuntimeEvent{Kind: "connect", Dest: v4("fd00::5", 5432)}, nil},
		{"database host, other port", RuntimeEvent{Kind: "connect", Dest: v4("10.1.2.3", 22)}, []string{"R-ALLOW"}},
		{"any port of an allowed address", RuntimeEvent{Kind: "connect", Dest: v4("192.0.2.1", 8080)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := e.DecideRuntime(context.Background(), tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				if len(got) == 0 || got[len(got)-1] != f.Article {
					got = append(got, f.Article)
				}
				if f.Message == "" {
					t.Errorf("finding without a message: %+v", f)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("articles %v, want %v (findings %+v)", got, tc.want, fs)
			}
		})
	}
}
