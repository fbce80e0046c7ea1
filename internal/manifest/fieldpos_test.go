package manifest

import (
	"fmt"
	"testing"
)

// TestFieldPos: each path points at its field's own key (or list element)
// in the file, in every document of a multi-document file, in list items,
// in JSON streams and in the object an AdmissionReview carries.
func TestFieldPos(t *testing.T) {
	yamlSrc := "# pods\n" + // 1
		"apiVersion: v1\n" + // 2
		"kind: Pod\n" + // 3
		"metadata: {name: a, labels: {app.kubernetes.io/name: x}}\n" + // 4
		"spec:\n" + // 5
		"  containers:\n" + // 6
		"  - name: app\n" + // 7
		"    image: nginx\n" + // 8
		"    securityContext:\n" + // 9
		"      privileged: true\n" + // 10
		"---\n" + // 11
		"apiVersion: v1\n" + // 12
		"kind: List\n" + // 13
		"items:\n" + // 14
		"- apiVersion: apps/v1\n" + // 15
		"  kind: Deployment\n" + // 16
		"  metadata: {name: b}\n" + // 17
		"  spec:\n" + // 18
		"    template:\n" + // 19
		"      spec:\n" + // 20
		"        hostNetwork: true\n" + // 21
		"        containers:\n" + // 22
		"        - {name: c, image: busybox, securityContext: {capabilities: {add: [NET_ADMIN, SYS_ADMIN]}}}\n" // 23
	jsonSrc := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"}} {"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},` + "\n" +
		`  "spec":{"type":"NodePort"}}` + "\n" +
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"object":` + "\n" +
		`  {"kind":"Pod","metadata":{"name":"r"},"spec":{"hostPID":true}}}}`
	cases := []struct {
		src, name, path string
		line, col       int
	}{
		{yamlSrc, "a", "spec.containers[0].securityContext.privileged", 10, 7},
		{yamlSrc, "a", "spec.containers[0].image", 8, 5},
		{yamlSrc, "a", "spec.containers[0]", 7, 5},
		{yamlSrc, "a", "metadata.labels.app.kubernetes.io/name", 4, 30},
		{yamlSrc, "a", `metadata.labels["app.kubernetes.io/name"]`, 4, 30},
		{yamlSrc, "a", `metadata.labels["app.kubernetes.io/nam`, 4, 21}, // broken quote: the deepest field
		{yamlSrc, "a", "spec.containers[0].livenessProbe", 7, 5},        // absent: the deepest field that exists
		{yamlSrc, "a", "spec.containers[3].image", 6, 3},                // index past the end: the list's key
		{yamlSrc, "a", "", 2, 1},                                        // the object itself
		{yamlSrc, "b", "spec.template.spec.hostNetwork", 21, 9},         // list item in the second document
		{yamlSrc, "b", "spec.template.spec.containers[0].securityContext.capabilities.add[1]", 23, 87},
		{jsonSrc, "s", "spec.type", 2, 11},
		{jsonSrc, "j", "metadata.name", 1, 45},
		{jsonSrc, "s", "metadata.name", 1, 106}, // the second object on the line
		{jsonSrc, "r", "spec.hostPID", 4, 49},
	}
	for _, tc := range cases {
		t.Run(tc.name+" "+tc.path, func(t *testing.T) {
			docs, errs := Parse("f", []byte(tc.src))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for _, d := range docs {
				if d.Name() != tc.name {
					continue
				}
				line, col := d.FieldPos(tc.path)
				if line != tc.line || col != tc.col {
					t.Errorf("%s %q at %d:%d, want %d:%d", tc.name, tc.path, line, col, tc.line, tc.col)
				}
				return
			}
			t.Fatalf("no object %s in %s", tc.name, fmt.Sprint(len(docs)))
		})
	}
}

// FuzzFieldPos: any document and any path give a position inside the file
// (or none), never a panic.
func FuzzFieldPos(f *testing.F) {
	f.Add("apiVersion: v1\nkind: Pod\nspec: {containers: [{image: x}]}\n", "spec.containers[0].image")
	f.Add(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod"}]}`, "a[x].b[")
	f.Fuzz(func(t *testing.T, src, path string) {
		docs, _ := Parse("f", []byte(src))
		lines := 1
		for _, c := range src {
			if c == '\n' {
				lines++
			}
		}
		for _, d := range docs {
			line, col := d.FieldPos(path)
			if line < 0 || line > lines || col < 0 || (line > 0 && col == 0) {
				t.Fatalf("%q in %q at %d:%d (%d lines)", path, src, line, col, lines)
			}
		}
	})
}
