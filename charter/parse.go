package charter

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"time"

	"github.com/charter-dev/charter/podtemplate"

	"gopkg.in/yaml.v3"
)

var (
	idPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,62}$`)
	// overrideIDPattern is a Kubernetes object name (an override travels as
	// an Override object named by its id).
	overrideIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
	severities        = []string{"critical", "high", "medium", "low", "info"}
	actions           = []string{ActionDeny, ActionWarn, ActionAudit}
	operations        = []string{"CREATE", "UPDATE", "DELETE", "CONNECT", "*"}
	expectation       = []string{ActionDeny, ActionWarn, ActionAudit, "allow"}
)

// Parse decodes one charter document from data. file names the source in
// errors. Includes are recorded but not followed (see Load). The returned
// error, if any, is an ErrorList holding every problem found.
func Parse(file string, data []byte) (*Charter, error) {
	d := &decoder{file: file, src: data}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrorList{{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "empty file: expected a Charter document"}}
		}
		return nil, ErrorList{SyntaxError(file, data, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		at := &extra
		if len(extra.Content) > 0 {
			at = extra.Content[0]
		}
		d.errorf(at, "a charter file holds exactly one document; found another here")
	} else if !errors.Is(err, io.EOF) {
		return nil, ErrorList{SyntaxError(file, data, err)}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	c := &Charter{Pos: d.pos(root)}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "charter must be a mapping, not %s", kindName(root))
		return nil, d.errs.Err()
	}
	var apiVersion, kind string
	d.fields(root, "charter", map[string]func(*yaml.Node){
		"apiVersion": func(n *yaml.Node) {
			if apiVersion = d.str(n, "apiVersion"); apiVersion != APIVersion && apiVersion != "" {
				d.errorf(n, "apiVersion %q is not supported; use %q", apiVersion, APIVersion)
			}
		},
		"kind": func(n *yaml.Node) {
			if kind = d.str(n, "kind"); kind != Kind && kind != "" {
				d.errorf(n, "kind %q is not %q", kind, Kind)
			}
		},
		"metadata": func(n *yaml.Node) { d.metadata(n, &c.Metadata) },
		"spec":     func(n *yaml.Node) { d.spec(n, &c.Spec) },
	})
	required(d, root, "charter", present(root), "apiVersion", "kind", "metadata", "spec")
	d.resolveDefaults(c)
	d.checkParamRefs(c)
	return c, d.errs.Err()
}

func (d *decoder) metadata(n *yaml.Node, m *Metadata) {
	d.fields(n, "metadata", map[string]func(*yaml.Node){
		"name": func(v *yaml.Node) {
			m.Name = d.str(v, "metadata.name")
			if m.Name != "" && !idPattern.MatchString(m.Name) {
				d.errorf(v, "metadata.name %q must be letters, digits, '.', '_' or '-', starting with a letter", m.Name)
			}
		},
		"version":     func(v *yaml.Node) { m.Version = d.str(v, "metadata.version") },
		"description": func(v *yaml.Node) { m.Description = d.str(v, "metadata.description") },
	})
	required(d, n, "metadata", present(n), "name")
}

func (d *decoder) spec(n *yaml.Node, s *Spec) {
	d.fields(n, "spec", map[string]func(*yaml.Node){
		"include": func(v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				d.errorf(v, "spec.include must be a list of file paths, not %s", kindName(v))
				return
			}
			for _, e := range v.Content {
				s.Include = append(s.Include, Include{Pos: d.pos(e), Path: d.str(e, "spec.include entry")})
			}
		},
		"podTemplates": func(v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				d.errorf(v, "spec.podTemplates must be a list of {apiGroup, kind, path}, not %s", kindName(v))
				return
			}
			for _, e := range v.Content {
				pt := PodTemplate{Pos: d.pos(e)}
				d.fields(e, "spec.podTemplates entry", map[string]func(*yaml.Node){
					"apiGroup": func(x *yaml.Node) { pt.APIGroup = d.str(x, "podTemplates.apiGroup") },
					"kind":     func(x *yaml.Node) { pt.Kind = d.str(x, "podTemplates.kind") },
					"path":     func(x *yaml.Node) { pt.Path = d.str(x, "podTemplates.path") },
				})
				required(d, e, "spec.podTemplates entry", present(e), "kind", "path")
				if pt.Kind == "" || pt.Path == "" {
					continue
				}
				if err := podtemplate.Check(pt.Template()); err != nil {
					d.errorf(e, "%v", err)
					continue
				}
				s.PodTemplates = append(s.PodTemplates, pt)
			}
			if _, err := podtemplate.New(templates(s.PodTemplates)); err != nil {
				d.errorf(v, "%v", err)
			}
		},
		"defaults": func(v *yaml.Node) {
			d.fields(v, "spec.defaults", map[string]func(*yaml.Node){
				"action":   func(x *yaml.Node) { s.Defaults.Action = d.oneOf(x, "action", d.str(x, "action"), actions...) },
				"severity": func(x *yaml.Node) { s.Defaults.Severity = d.oneOf(x, "severity", d.str(x, "severity"), severities...) },
			})
		},
		"scope": func(v *yaml.Node) {
			d.fields(v, "spec.scope", map[string]func(*yaml.Node){
				"namespaces":        func(x *yaml.Node) { s.Scope.Namespaces = d.globList(x, "scope.namespaces") },
				"excludeNamespaces": func(x *yaml.Node) { s.Scope.ExcludeNamespaces = d.globList(x, "scope.excludeNamespaces") },
			})
		},
		"council": func(v *yaml.Node) { s.Council = d.council(v) },
		"regoCapabilities": func(v *yaml.Node) {
			s.RegoCapabilities = &RegoCapabilities{Pos: d.pos(v)}
			d.fields(v, "spec.regoCapabilities", map[string]func(*yaml.Node){
				"allow": func(x *yaml.Node) {
					for i, name := range d.strList(x, "regoCapabilities.allow") {
						s.RegoCapabilities.Allow = append(s.RegoCapabilities.Allow, Builtin{Pos: d.pos(x.Content[i]), Name: name})
					}
				},
			})
		},
		"parameters":  func(v *yaml.Node) { s.Parameters = d.parameters(v) },
		"customKinds": func(v *yaml.Node) { s.CustomKinds = d.customKinds(v) },
		"instances":   func(v *yaml.Node) { s.Instances = d.instances(v) },
		"articles": func(v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				d.errorf(v, "spec.articles must be a list, not %s", kindName(v))
				return
			}
			for _, e := range v.Content {
				if a := d.article(e); a != nil {
					s.Articles = append(s.Articles, a)
				}
			}
		},
	})
}

// ValidOverrideID reports whether id can name an override: a Kubernetes
// object name, since an override travels as an Override object named by it.
func ValidOverrideID(id string) bool { return overrideIDPattern.MatchString(id) }

func (d *decoder) council(v *yaml.Node) *Council {
	c := &Council{Pos: d.pos(v), MaxLifetime: DefaultMaxLifetime}
	d.fields(v, "spec.council", map[string]func(*yaml.Node){
		"threshold": func(x *yaml.Node) { c.Threshold = d.integer(x, "council.threshold") },
		"keys": func(x *yaml.Node) {
			for i, p := range d.strList(x, "council.keys") {
				if p == "" {
					d.errorf(x.Content[i], "council.keys: empty key file name")
					continue
				}
				c.Keys = append(c.Keys, CouncilKey{Pos: d.pos(x.Content[i]), Path: p})
			}
		},
		"maxLifetime": func(x *yaml.Node) {
			s := d.str(x, "council.maxLifetime")
			lt, err := time.ParseDuration(s)
			switch {
			case s == "":
			case err != nil:
				d.errorf(x, "council.maxLifetime %q is not a duration (e.g. 30m, 8h, 24h)", s)
			case lt <= 0:
				d.errorf(x, "council.maxLifetime %s must be positive", s)
			default:
				c.MaxLifetime = lt
			}
		},
		"revoked": func(x *yaml.Node) {
			for i, id := range d.strList(x, "council.revoked") {
				if !overrideIDPattern.MatchString(id) {
					d.errorf(x.Content[i], "council.revoked: %q is not an override id (lower-case letters, digits, '.', '-', at most 253)", id)
					continue
				}
				c.Revoked = append(c.Revoked, id)
			}
		},
	})
	required(d, v, "spec.council", present(v), "threshold", "keys")
	if t := c.Threshold; t < 1 || t > len(c.Keys) {
		d.errorf(v, "council.threshold %d must be between 1 and the number of keys (%d)", t, len(c.Keys))
	}
	return c
}

// resolveDefaults fills article action and severity and checks ids are unique.
func (d *decoder) resolveDefaults(c *Charter) {
	seen := map[string]Pos{}
	for _, a := range c.Spec.Articles {
		a.RegoCapabilities = c.Spec.RegoCapabilities
		if a.Action == "" {
			a.Action = c.Spec.Defaults.Action
		}
		if a.Action == "" {
			a.Action = ActionDeny
		}
		if a.Severity == "" {
			a.Severity = c.Spec.Defaults.Severity
		}
		if a.Severity == "" {
			a.Severity = "medium"
		}
		if a.ID == "" {
			continue
		}
		if first, dup := seen[a.ID]; dup {
			d.errs.Add(a.Pos, "duplicate article id %q (first defined at %s)", a.ID, first)
			continue
		}
		seen[a.ID] = a.Pos
	}
}
