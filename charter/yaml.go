package charter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"

	goccy "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
	sigsyaml "sigs.k8s.io/yaml"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// SyntaxError turns a YAML syntax error from gopkg.in/yaml.v3, which knows
// only the line, into a positioned Error. A second parser supplies the column.
//
// The second parser takes time quadratic in the nesting of flow collections
// (a 24,000-deep [[[...]]] took 6 s, 200,000 deep minutes), so it is asked
// only when the text nests at most maxColumnDepth brackets; deeper text gets
// yaml.v3's line alone.
func SyntaxError(file string, data []byte, err error) *Error {
	if flowDepth(data) > maxColumnDepth {
		return lineOnly(file, err)
	}
	if _, perr := parser.ParseBytes(data, 0); perr != nil {
		var se *goccy.SyntaxError
		if errors.As(perr, &se) && se.Token != nil {
			return &Error{Pos: Pos{File: file, Line: se.Token.Position.Line, Col: se.Token.Position.Column}, Msg: "invalid YAML: " + se.Message}
		}
	}
	return lineOnly(file, err)
}

// maxColumnDepth bounds the bracket nesting SyntaxError hands its second
// parser.
const maxColumnDepth = 1000

// lineOnly positions err by the line yaml.v3 names (else 1:1).
func lineOnly(file string, err error) *Error {
	pos := Pos{File: file, Line: 1, Col: 1}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return &Error{Pos: pos, Msg: "invalid YAML: " + msg}
}

// flowDepth is the deepest nesting of [ and { in data, counting brackets
// inside strings too (an overestimate only costs the column).
func flowDepth(data []byte) int {
	depth, deepest := 0, 0
	for _, c := range data {
		switch c {
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return deepest
}

// nodePos is the position of a YAML node in file.
func nodePos(file string, n *yaml.Node) Pos {
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

// NodeValue converts a YAML node into the JSON-compatible value OPA expects:
// map[string]any, []any, string, bool, float64/int64, nil.
//
// Timestamps keep their text ("2024-01-01"), as kubectl keeps them.
func NodeValue(n *yaml.Node) (any, error) {
	var v any
	if err := timestampsAsText(n).Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v)
}

// timestampsAsText returns n with every !!timestamp scalar retagged !!str.
func timestampsAsText(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!timestamp" {
		c := *n
		c.Tag = "!!str"
		return &c
	}
	if len(n.Content) == 0 {
		return n
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = timestampsAsText(k)
	}
	return &c
}

// KubernetesValue decodes a node the way kubectl reads manifests
// (sigs.k8s.io/yaml: YAML 1.1 booleans such as yes and on are true, exact
// numbers), for test objects that must decide as the cluster would.
func KubernetesValue(n *yaml.Node) (any, error) {
	text, err := yaml.Marshal(n)
	if err != nil {
		return nil, err
	}
	return DecodeKubernetes(text)
}

// DecodeKubernetes reads one YAML or JSON document as kubectl does. Numbers
// stay json.Number, which OPA reads exactly.
func DecodeKubernetes(doc []byte) (any, error) {
	j, err := sigsyaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func normalize(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			t[k] = n
		}
		return t, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			// Like sigs.k8s.io/yaml: scalar keys become their text ("1": ...).
			var ks string
			switch kv := k.(type) {
			case string:
				ks = kv
			case int, int64, uint64, float64, bool:
				ks = fmt.Sprint(kv)
			default:
				return nil, errors.New("mapping keys must be scalars")
			}
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[ks] = n
		}
		return out, nil
	case []any:
		for i, e := range t {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			t[i] = n
		}
		return t, nil
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano), nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, errors.New("value must be a finite number (JSON has no NaN or infinity)")
		}
		return t, nil
	case int:
		return int64(t), nil
	case uint64:
		return float64(t), nil
	}
	return v, nil
}
