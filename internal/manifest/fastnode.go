package manifest

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// nodeObject decodes one YAML document of a YAML stream with a single
// yaml.v3 parse whose node tree also serves FieldPos, giving each scalar
// the value go-yaml v2 (kubectl's YAML 1.1 reading, through
// sigs.k8s.io/yaml) gives it: yes/no/on/off are booleans, 0x1F and 017
// integers, 1_000 a thousand. ok is false for whatever it does not read
// exactly as v2 would (explicit tags, directives, comments after the
// leading lines, aliases, merge keys, binary integers, keys that are not
// strings, and everything fastObject refuses); the caller then tries
// fastObject, then kubectl's own path.
//
// TestFastObjectMatchesKubectl and FuzzFastObject hold it to kubectl's path.
func nodeObject(doc []byte) (map[string]any, *yaml.Node, bool) {
	if bytes.IndexByte(doc, '!') >= 0 || doc[0] == '%' || bytes.Contains(doc, []byte("\n%")) ||
		bytes.IndexByte(doc[leadingComments(doc):], '#') >= 0 {
		return nil, nil, false
	}
	var root yaml.Node
	if yaml.Unmarshal(doc, &root) != nil || root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, nil, false
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, nil, false
	}
	v, ok := v2Value(top)
	if !ok {
		return nil, nil, false
	}
	obj := v.(map[string]any)
	if _, list := obj["items"]; list || !plainIdentity(obj) {
		return nil, nil, false
	}
	return obj, top, true
}

// leadingComments is the length of doc's leading lines that are blank,
// whole-line comments or a "---" marker (helm's "# Source: ..." lines).
// yaml.v3 scans comments where go-yaml v2 skips them; past those leading
// lines a document holding "#" anywhere is left to fastObject (go-yaml v2,
// kubectl's own parser), so no comment can make the two parsers disagree
// about the object's structure.
func leadingComments(doc []byte) int {
	off := 0
	for off < len(doc) {
		line := doc[off:]
		end := bytes.IndexByte(line, '\n')
		if end < 0 {
			end = len(line) - 1
		}
		t := bytes.TrimSpace(line[:end+1])
		if len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			return off
		}
		off += end + 1
	}
	return off
}

// v2Value is the engine's value of n as go-yaml v2 reads it.
func v2Value(n *yaml.Node) (any, bool) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return engineValue(n.Value)
		}
		v, ok := v2Plain(n.Value)
		if !ok {
			return nil, false
		}
		return engineValue(v)
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, false
			}
			key, ok := k.Value, true
			if k.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
				var v any
				if v, ok = v2Plain(k.Value); ok {
					key, ok = v.(string)
				}
			}
			if !ok {
				return nil, false
			}
			if out[key], ok = v2Value(n.Content[i+1]); !ok {
				return nil, false
			}
		}
		return out, true
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, e := range n.Content {
			var ok bool
			if out[i], ok = v2Value(e); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// yamlStyleFloat is go-yaml v2's float syntax.
var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// v2Plain resolves an untagged plain scalar as go-yaml v2's resolve does
// for a value decoded into interface{} (a timestamp stays its text). ok is
// false for the values fastObject would refuse anyway (NaN, infinities,
// merge keys) and for binary integers, which this does not read.
func v2Plain(in string) (any, bool) {
	switch in {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, true
	case "", "~", "null", "Null", "NULL":
		return nil, true
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<":
		return nil, false
	}
	switch c := in[0]; {
	case c == '.':
		if f, err := strconv.ParseFloat(in, 64); err == nil {
			return f, true
		}
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		plain := strings.ReplaceAll(in, "_", "")
		if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return i, true
		}
		if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return u, true
		}
		if yamlStyleFloat.MatchString(plain) {
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return f, true
			}
		}
		if strings.HasPrefix(plain, "0b") || strings.HasPrefix(plain, "-0b") {
			return nil, false
		}
	}
	return in, true
}
