package charter

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	goccy "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// SyntaxError turns a YAML syntax error from gopkg.in/yaml.v3, which knows
// only the line, into a positioned Error. A second parser supplies the column.
func SyntaxError(file string, data []byte, err error) *Error {
	if _, perr := parser.ParseBytes(data, 0); perr != nil {
		var se *goccy.SyntaxError
		if errors.As(perr, &se) && se.Token != nil {
			return &Error{Pos: Pos{File: file, Line: se.Token.Position.Line, Col: se.Token.Position.Column}, Msg: "invalid YAML: " + se.Message}
		}
	}
	pos := Pos{File: file, Line: 1, Col: 1}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return &Error{Pos: pos, Msg: "invalid YAML: " + msg}
}

// nodePos is the position of a YAML node in file.
func nodePos(file string, n *yaml.Node) Pos {
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

// NodeValue converts a YAML node into the JSON-compatible value OPA expects:
// map[string]any, []any, string, bool, float64/int64, nil.
func NodeValue(n *yaml.Node) (any, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v)
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
	case int:
		return int64(t), nil
	case uint64:
		return float64(t), nil
	}
	return v, nil
}
