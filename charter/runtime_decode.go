package charter

import (
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

func (d *decoder) runtime(n *yaml.Node) *Runtime {
	r := &Runtime{}
	d.fields(n, "runtime", map[string]func(*yaml.Node){
		"exec": func(v *yaml.Node) { r.Exec = d.execRule(v) },
		"connect": func(v *yaml.Node) {
			r.Connect = &ConnectRule{}
			d.fields(v, "runtime.connect", map[string]func(*yaml.Node){
				"deny":  func(x *yaml.Node) { r.Connect.Deny = d.netTargets(x, "runtime.connect.deny") },
				"allow": func(x *yaml.Node) { r.Connect.Allow = d.netTargets(x, "runtime.connect.allow") },
			})
			if r.Connect.Deny == nil && r.Connect.Allow == nil {
				d.errorf(v, "runtime.connect needs deny or allow")
			}
		},
		"open": func(v *yaml.Node) {
			r.Open = &OpenRule{}
			d.fields(v, "runtime.open", map[string]func(*yaml.Node){
				"denyWrite": func(x *yaml.Node) { r.Open.DenyWrite = d.absPaths(x, "runtime.open.denyWrite") },
				"denyRead":  func(x *yaml.Node) { r.Open.DenyRead = d.absPaths(x, "runtime.open.denyRead") },
			})
		},
		"action": func(v *yaml.Node) {
			r.Action = d.oneOf(v, "runtime.action", d.str(v, "runtime.action"), ActionDeny, ActionAudit)
		},
	})
	if r.Exec == nil && r.Connect == nil && r.Open == nil {
		d.errorf(n, "runtime needs at least one of exec, connect or open")
	}
	if r.Action == "" {
		r.Action = ActionDeny
	}
	return r
}

func (d *decoder) execRule(v *yaml.Node) *ExecRule {
	e := &ExecRule{}
	set := false
	d.fields(v, "runtime.exec", map[string]func(*yaml.Node){
		"deny": func(x *yaml.Node) { e.Deny, set = d.absPaths(x, "runtime.exec.deny"), true },
		"allow": func(x *yaml.Node) {
			e.Allow, set = d.absPaths(x, "runtime.exec.allow"), true
			for i, p := range e.Allow {
				switch {
				case strings.HasSuffix(p, "/"):
					d.errorf(x.Content[i], "runtime.exec.allow: %q is a directory; an allow-list names files (each is matched by its identity, device and inode)", p)
				case isDynamicLoader(p):
					d.errorf(x.Content[i], "runtime.exec.allow: %q is the dynamic loader; allowing it allows every binary (%s PROGRAM runs PROGRAM without executing it)", p, p)
				}
			}
		},
		"denyFileless": func(x *yaml.Node) { e.DenyFileless, set = d.boolean(x, "runtime.exec.denyFileless"), true },
	})
	if !set {
		d.errorf(v, "runtime.exec needs deny, allow or denyFileless")
	}
	return e
}

// dynamicLoader matches the file names of the ELF program interpreters of
// glibc and musl (ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ld-musl-x86_64.so.1, ld.so).
var dynamicLoader = regexp.MustCompile(`^(ld-linux.*\.so(\.\d+)*|ld-musl-.*\.so(\.\d+)*|ld\.so|ld64\.so(\.\d+)*)$`)

func isDynamicLoader(p string) bool { return dynamicLoader.MatchString(path.Base(p)) }

func (d *decoder) netTargets(x *yaml.Node, what string) []string {
	out := d.strList(x, what)
	for i, s := range out {
		if _, err := ParseNetTarget(s); err != nil {
			d.errorf(x.Content[i], "%s: %v", what, err)
		}
	}
	return out
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, "%s must be true or false, not %s", what, kindName(n))
		return false
	}
	return n.Value == "true"
}

func (d *decoder) absPaths(n *yaml.Node, what string) []string {
	out := d.strList(n, what)
	for i, p := range out {
		if !strings.HasPrefix(p, "/") || len(p) > 255 {
			d.errorf(n.Content[i], "%s: %q must be an absolute path of at most 255 bytes", what, p)
		}
	}
	return out
}
