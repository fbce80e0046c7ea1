package podtemplate

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// AnyGroup as a template's APIGroup matches the kind in every API group.
const AnyGroup = "*"

// Template says where objects of a kind keep their pod. It is part of the
// bundle's wire format (data.charter.info and data.charter.program).
type Template struct {
	APIGroup string   `json:"apiGroup"` // "" for the core group, AnyGroup for any
	Kind     string   `json:"kind"`
	Path     []string `json:"path"` // fields from the object to the pod; empty: the object is the pod
}

// builtin are the kinds of Kubernetes itself that embed a pod.
var builtin = []Template{
	{"", "Pod", nil},
	{"", "PodTemplate", []string{"template"}},
	{"", "ReplicationController", []string{"spec", "template"}},
	{"apps", "Deployment", []string{"spec", "template"}},
	{"apps", "ReplicaSet", []string{"spec", "template"}},
	{"apps", "StatefulSet", []string{"spec", "template"}},
	{"apps", "DaemonSet", []string{"spec", "template"}},
	{"batch", "Job", []string{"spec", "template"}},
	{"batch", "CronJob", []string{"spec", "jobTemplate", "spec", "template"}},
}

// Builtin returns the built-in templates (a copy).
func Builtin() []Template {
	out := make([]Template, len(builtin))
	for i, t := range builtin {
		out[i] = Template{t.APIGroup, t.Kind, append([]string(nil), t.Path...)}
	}
	return out
}

// Table looks templates up by API group and kind.
type Table struct {
	list  []Template
	paths map[string][]string // "group/kind"
	kinds map[string]bool
}

func key(group, kind string) string { return group + "/" + kind }

// New builds the table of the built-in templates and extra ones. An extra
// template for a kind the table already has, or that names a built-in kind
// (in any group: articles cover pod kinds by name), is an error.
func New(extra []Template) (*Table, error) {
	t := &Table{paths: map[string][]string{}, kinds: map[string]bool{}}
	for _, tp := range Builtin() {
		t.add(tp)
	}
	for _, tp := range extra {
		if err := Check(tp); err != nil {
			return nil, err
		}
		for _, b := range builtin {
			if b.Kind == tp.Kind {
				return nil, fmt.Errorf("%s is a built-in kind (its pod is at %q); a pod template cannot redefine it", tp.Kind, strings.Join(b.Path, "."))
			}
		}
		if _, dup := t.paths[key(tp.APIGroup, tp.Kind)]; dup {
			return nil, fmt.Errorf("pod template for %s is declared twice", describe(tp))
		}
		t.add(Template{tp.APIGroup, tp.Kind, append([]string(nil), tp.Path...)})
	}
	return t, nil
}

// FromList builds the table a bundle carries, exactly as listed (built-in
// templates included): every template valid, no group and kind twice.
func FromList(list []Template) (*Table, error) {
	t := &Table{paths: map[string][]string{}, kinds: map[string]bool{}}
	for _, tp := range list {
		if err := Check(tp); err != nil && !(tp.Kind != "" && len(tp.Path) == 0) {
			return nil, err
		}
		if _, dup := t.paths[key(tp.APIGroup, tp.Kind)]; dup {
			return nil, fmt.Errorf("pod template for %s is listed twice", describe(tp))
		}
		t.add(Template{tp.APIGroup, tp.Kind, append([]string(nil), tp.Path...)})
	}
	return t, nil
}

func (t *Table) add(tp Template) {
	t.paths[key(tp.APIGroup, tp.Kind)] = tp.Path
	t.kinds[tp.Kind] = true
	t.list = append(t.list, tp)
}

func describe(tp Template) string {
	switch tp.APIGroup {
	case "":
		return tp.Kind
	case AnyGroup:
		return tp.Kind + " (any group)"
	}
	return tp.Kind + "." + tp.APIGroup
}

// Check validates one template: a kind, and a path of plain field names.
func Check(tp Template) error {
	if tp.Kind == "" {
		return fmt.Errorf("a pod template needs a kind")
	}
	if len(tp.Path) == 0 {
		return fmt.Errorf("pod template of %s needs a path (for example spec.template)", tp.Kind)
	}
	for _, f := range tp.Path {
		if f == "" || strings.ContainsAny(f, ".[]*\"'") {
			return fmt.Errorf("pod template path %q of %s: each step is a plain field name", strings.Join(tp.Path, "."), tp.Kind)
		}
	}
	return nil
}

// Lookup is the path of the pod in objects of group and kind: the group's
// own template first, else one declared for any group.
func (t *Table) Lookup(group, kind string) ([]string, bool) {
	if p, ok := t.paths[key(group, kind)]; ok {
		return p, true
	}
	p, ok := t.paths[key(AnyGroup, kind)]
	return p, ok
}

// HasKind reports whether some group's kind of that name embeds a pod:
// articles written for Pod apply to it.
func (t *Table) HasKind(kind string) bool { return t.kinds[kind] }

// Templates lists the table, built-in templates first (a copy).
func (t *Table) Templates() []Template {
	return append([]Template(nil), t.list...)
}

// Extra lists the templates beyond the built-in ones.
func (t *Table) Extra() []Template {
	return append([]Template(nil), t.list[len(builtin):]...)
}

// Rego is the table as the Rego library's rules: template_paths by
// "group/kind", template_path for the object under review, and pod_kinds.
func (t *Table) Rego() string {
	var b strings.Builder
	b.WriteString("# Where each kind keeps its pod template, by group/kind (generated from\n# package podtemplate, with the charter's spec.podTemplates).\ntemplate_paths := {\n")
	for _, tp := range t.list {
		var steps []string
		for _, s := range tp.Path {
			steps = append(steps, strconv.Quote(s))
		}
		fmt.Fprintf(&b, "\t%s: [%s],\n", strconv.Quote(key(tp.APIGroup, tp.Kind)), strings.Join(steps, ", "))
	}
	b.WriteString("}\n\n")
	b.WriteString("template_path := template_paths[concat(\"/\", [group, kind])]\n\n")
	b.WriteString("template_path := template_paths[concat(\"/\", [\"*\", kind])] if not template_paths[concat(\"/\", [group, kind])]\n\n")
	kinds := make([]string, 0, len(t.kinds))
	for k := range t.kinds {
		kinds = append(kinds, strconv.Quote(k))
	}
	sort.Strings(kinds)
	fmt.Fprintf(&b, "# Kinds that embed a pod: a rule written for Pod applies to all of them.\npod_kinds := {%s}\n", strings.Join(kinds, ", "))
	return b.String()
}
