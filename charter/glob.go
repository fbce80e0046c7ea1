package charter

import (
	"fmt"

	"github.com/gobwas/glob"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// CompileGlob compiles a glob exactly as the generated Rego's
// glob.match(pattern, null, s) does: OPA compiles it with gobwas/glob and,
// for null delimiters, with none (so * matches dots and slashes too). A
// pattern this accepts never makes glob.match fail at evaluation.
func CompileGlob(pattern string) (*glob.Pattern, error) {
	return glob.Compile(pattern)
}

// checkGlob returns a user-facing error for a pattern CompileGlob rejects.
func checkGlob(what, pattern string) error {
	if _, err := CompileGlob(pattern); err != nil {
		return fmt.Errorf("%s: bad glob %q: %v", what, pattern, err)
	}
	return nil
}

// globList decodes a list of namespace globs and checks each one.
func (d *decoder) globList(n *yaml.Node, what string) []string {
	out := d.strList(n, what)
	for i, p := range out {
		if err := checkGlob(what, p); err != nil {
			d.fail(n.Content[i], err)
		}
	}
	return out
}

// checkRequirement validates one label selector requirement as Kubernetes
// does when it turns a LabelSelector into a selector.
func checkRequirement(key string, op selection.Operator, values []string) error {
	_, err := labels.NewRequirement(key, op, values)
	return err
}
