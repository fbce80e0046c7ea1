package engine

import (
	"context"
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
		{"metadata endpoint", RuntimeEvent{Kind: "connect", Dest: &Dest{Addr: "169.254.169.254", Port: 80}}, "AD-018"},
		{"metadata endpoint v6", RuntimeEvent{Kind: "connect", Dest: &Dest{Addr: "fd00:ec2::254", Port: 80}}, "AD-018"},
		{"other address", RuntimeEvent{Kind: "connect", Dest: &Dest{Addr: "10.0.0.1", Port: 443}}, ""},
		{"write under /etc", RuntimeEvent{Kind: "open", Path: "/etc/passwd", Write: true}, "AD-019"},
		{"read under /etc", RuntimeEvent{Kind: "open", Path: "/etc/passwd"}, ""},
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
