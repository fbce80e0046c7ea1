package engine

import (
	"reflect"
	"strings"
	"testing"

	"github.com/charter-dev/charter/internal/manifest"
	"github.com/charter-dev/charter/podtemplate"
)

// TestPodTemplatesCoverCustomResources: a charter's spec.podTemplates make
// Pod articles decide custom resources that embed a pod template (#15.5),
// natively and through OPA alike, at the template's path; a kind of the same
// name in a group no template names is not read as a pod.
func TestPodTemplatesCoverCustomResources(t *testing.T) {
	native, opa := pair(t, "testdata/podtemplates.yaml")
	docs, err := manifest.Read([]string{"testdata/rollout-privileged.yaml"}, nil)
	if err != nil || len(docs) != 3 {
		t.Fatalf("read: %v (%d docs)", err, len(docs))
	}
	want := []map[string]string{
		{"PT-001": "spec.template.spec.containers[0].securityContext.privileged", "PT-003": "spec.template.spec.hostPID"},
		{"PT-001": "spec.template.spec.containers[0].securityContext.privileged", "PT-002": "spec.template.metadata.labels.team"},
		{},
	}
	for i, d := range docs {
		for _, in := range []map[string]any{d.Object, review("CREATE", "object", d.Object)} {
			got := sameDecision(t, native, opa, d.Name(), in)
			found := map[string]string{}
			for _, f := range got.Violations {
				found[f.Article] = f.Path
			}
			if !reflect.DeepEqual(found, want[i]) {
				t.Errorf("%s %s: violations %v, want %v", d.APIVersion(), d.Kind(), found, want[i])
			}
		}
	}
	if info := native.Bundle().Info; !strings.Contains(kindsOf(info.PodTemplates), "argoproj.io/Rollout,*/CloneSet") {
		t.Errorf("bundle pod templates = %s", kindsOf(info.PodTemplates))
	}
}

func kindsOf(ts []podtemplate.Template) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.APIGroup+"/"+t.Kind)
	}
	return strings.Join(out, ",")
}
