package charter

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// kindsCharter is a charter with one article matching kinds (a YAML flow list).
func kindsCharter(spec, kinds string) string {
	return "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: k}\nspec:\n" + spec +
		"  articles:\n  - id: A\n    title: t\n    match: {kinds: " + kinds + "}\n    violation: {path: object.a, op: exists}\n    message: m\n"
}

// TestKindErrors: every kind no object can have is an error at the place
// it is written, with the spelling Kubernetes uses.
func TestKindErrors(t *testing.T) {
	rollout := "  customKinds:\n  - {group: argoproj.io, version: v1alpha1, kind: Rollout}\n"
	for _, tc := range []struct {
		name, spec, kinds string
		want              []string // full "file:line:col: message" lines, all of them
	}{
		{"plural", "", "[Pods]", []string{`k.yaml:8:21: article A: match.kinds: unknown kind "Pods"; did you mean Pod (v1)?`}},
		{"lower case", "", "[Pod, cronjob]", []string{`k.yaml:8:26: article A: match.kinds: unknown kind "cronjob"; did you mean CronJob (batch/v1)?`}},
		{"group and version", "", "[batch/*/CronJob]", []string{`k.yaml:8:21: article A: match.kinds: "batch/*/CronJob": a kind is named alone, without group or version; did you mean CronJob (batch/v1)?`}},
		{"subresource", "", "[Pod/exec]", []string{`k.yaml:8:21: article A: match.kinds: "Pod/exec" is not a kind: admission sees the pods/exec subresource as kind PodExecOptions (v1) with operations [CONNECT]; write kinds: [PodExecOptions], operations: [CONNECT]`}},
		{"several at once", "", "[Pods, Deplyment, Service]", []string{
			`k.yaml:8:21: article A: match.kinds: unknown kind "Pods"; did you mean Pod (v1)?`,
			`k.yaml:8:27: article A: match.kinds: unknown kind "Deplyment"; did you mean Deployment (apps/v1)?`}},
		{"undeclared custom kind", "", "[Rollout]", []string{`k.yaml:8:21: article A: match.kinds: unknown kind "Rollout" (not a built-in Kubernetes kind; declare a custom resource's kind in spec.customKinds)`}},
		{"misspelt custom kind", rollout, "[Rolout]", []string{`k.yaml:10:21: article A: match.kinds: unknown kind "Rolout"; did you mean Rollout (argoproj.io/v1alpha1, declared in spec.customKinds)?`}},
		{"declared custom kind", rollout, "[Rollout, Pod, PodExecOptions, \"*\"]", nil},
		{"pod template kind", "  podTemplates:\n  - {apiGroup: argoproj.io, kind: Rollout, path: spec.template}\n", "[Rollout]", nil},
		{"built-in kind declared", "  customKinds:\n  - {group: batch, version: v1, kind: CronJob}\n", "[Pod]", []string{
			`k.yaml:6:13: customKinds.group "batch": a custom resource's group has a dot (e.g. argoproj.io); built-in kinds need no declaration`}},
		{"built-in kind of a dotted group", "  customKinds:\n  - {group: networking.k8s.io, version: v1, kind: Ingress}\n", "[Pod]", []string{
			`k.yaml:6:5: Ingress is a built-in kind of networking.k8s.io; spec.customKinds declares custom resources only`}},
		{"declared twice", "  customKinds:\n  - {group: a.io, version: v1, kind: W}\n  - {group: a.io, version: v2, kind: W}\n", "[W]", []string{
			`k.yaml:7:5: custom kind a.io/W is declared twice (first at `}},
		{"missing fields", "  customKinds:\n  - {kind: W}\n", "[Pod]", []string{
			`k.yaml:6:5: spec.customKinds entry is missing required field "group"`,
			`k.yaml:6:5: spec.customKinds entry is missing required field "version"`}},
		{"bad names", "  customKinds:\n  - {group: a.io, version: V1, kind: W, plural: Ws, namespaced: maybe}\n", "[Pod]", []string{
			`k.yaml:6:28: customKinds.version "V1" must be lower-case letters, digits and '-', starting with a letter (at most 63)`,
			`k.yaml:6:49: customKinds.plural "Ws" must be lower-case letters`,
			`k.yaml:6:65: customKinds.namespaced must be`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "k.yaml")
			if err := os.WriteFile(path, []byte(kindsCharter(tc.spec, tc.kinds)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], filepath.Join(dir, w)) {
					t.Errorf("error %d:\n%s\nwant prefix:\n%s", i, lines[i], filepath.Join(dir, w))
				}
			}
		})
	}
}

// TestClusterKindErrors: a cluster query names a kind as match.kinds does.
func TestClusterKindErrors(t *testing.T) {
	src := header + "  - id: A\n    title: x\n    match: {kinds: [Pod]}\n    violation:\n      any:\n" +
		"      - {cluster: {kind: storageclass}, op: exists}\n      - {cluster: {kind: \"*\"}, op: absent}\n      - {cluster: {kind: StorageClass}, op: absent}\n    message: m\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + `:11:26: article A: cluster.kind: unknown kind "storageclass"; did you mean StorageClass (storage.k8s.io/v1)?` + "\n" +
		path + `:12:26: article A: cluster.kind names one kind, not "*"`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
}

// TestCustomKindsIncluded: an including charter may name the kinds its
// includes declare; the declarations are merged, and conflicting ones are
// an error at the include.
func TestCustomKindsIncluded(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("base.yaml", "apiVersion: charter.dev/v1\nkind: Charter\nmetadata: {name: base}\nspec:\n  customKinds:\n  - {group: example.com, version: v1, kind: Widget, namespaced: false}\n")
	top := write("top.yaml", kindsCharter("  include: [base.yaml]\n", "[Widget]"))
	c, err := Load(top)
	if err != nil {
		t.Fatal(err)
	}
	want := []CustomKind{{Pos: Pos{File: filepath.Join(dir, "base.yaml"), Line: 6, Col: 5}, Group: "example.com", Version: "v1", Kind: "Widget", Plural: "widgets", Namespaced: false}}
	if !reflect.DeepEqual(c.Spec.CustomKinds, want) {
		t.Errorf("custom kinds %+v, want %+v", c.Spec.CustomKinds, want)
	}
	clash := write("clash.yaml", kindsCharter("  include: [base.yaml]\n  customKinds:\n  - {group: example.com, version: v1, kind: Widget}\n", "[Widget]"))
	_, err = Load(clash)
	if err == nil || !strings.Contains(err.Error(), "clash.yaml:5:13: include base.yaml: custom kind example.com/Widget is declared as {version: v1, plural: widgets, namespaced: true} here and as {version: v1, plural: widgets, namespaced: false}") {
		t.Errorf("error %v, want the conflicting declarations at the include", err)
	}
}
