package manifest

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// fastObject decodes one YAML document of a YAML stream to the value the
// engine reads, with one parse: the go-yaml v2 parse kubectl's own
// conversion starts with (sigs.k8s.io/yaml), then a walk that builds the
// object as kubectl's later steps would leave it (YAML → JSON bytes →
// unstructured with int64s → JSON → json.Number), without those four
// encodings. ok is false whenever the document is anything but a plain
// object kubectl sends unchanged: a parse error, a key that is not a
// string, a NaN or infinite number, a string that is not UTF-8, a list
// (an items field), a missing kind or apiVersion, metadata beyond the
// plain identity fields. The caller then decodes the document the slow way,
// with kubectl's own pieces, so errors and lists are exactly kubectl's.
// A nil object with ok is a null document (comments only, "~", "null"),
// which kubectl skips.
//
// TestFastObjectMatchesKubectl and FuzzFastObject hold it to the slow path.
func fastObject(doc []byte) (map[string]any, bool) {
	var v any
	if yamlv2.Unmarshal(doc, &v) != nil {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	top, ok := v.(map[any]any)
	if !ok {
		return nil, false
	}
	if _, list := top["items"]; list {
		return nil, false
	}
	obj, ok := engineMap(top)
	if !ok || !plainIdentity(obj) {
		return nil, false
	}
	return obj, true
}

func engineValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil, bool:
		return x, true
	case string:
		return x, utf8.ValidString(x)
	case int:
		return json.Number(strconv.Itoa(x)), true
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), true
	case uint64:
		return roundTripNumber(strconv.FormatUint(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false // json.Marshal refuses it: the slow path says so
		}
		return roundTripNumber(jsonFloat(x))
	case map[any]any:
		return engineMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var ok bool
			if out[i], ok = engineValue(e); !ok {
				return nil, false
			}
		}
		return out, true
	default:
		return nil, false
	}
}

func engineMap(m map[any]any) (map[string]any, bool) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		key, ok := k.(string)
		if !ok || !utf8.ValidString(key) {
			return nil, false
		}
		if out[key], ok = engineValue(v); !ok {
			return nil, false
		}
	}
	return out, true
}

// roundTripNumber is the json.Number the engine sees for a number whose
// JSON text is s: unstructured decoding keeps it an int64 when it has no
// "." and fits, else makes it a float64, and the object is encoded again.
func roundTripNumber(s string) (any, bool) {
	if !strings.Contains(s, ".") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false
	}
	return json.Number(jsonFloat(f)), true
}

// jsonFloat is encoding/json's text for a finite float64.
func jsonFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// plainIdentity says whether kubectl sends the object as it is: kind and
// apiVersion are strings it can read a group, version and kind from, and
// metadata (when present) holds only string names and string labels and
// annotations, which ObjectMeta always accepts. Anything else goes the
// slow way, which checks metadata against ObjectMeta as kubectl does.
func plainIdentity(obj map[string]any) bool {
	kind, _ := obj["kind"].(string)
	apiVersion, _ := obj["apiVersion"].(string)
	if kind == "" || apiVersion == "" {
		return false
	}
	if gv, err := schema.ParseGroupVersion(apiVersion); err != nil || gv.Version == "" {
		return false
	}
	md, present := obj["metadata"]
	if !present {
		return true
	}
	m, ok := md.(map[string]any)
	if !ok {
		return false
	}
	for k, v := range m {
		switch k {
		case "name", "namespace", "generateName":
			if _, ok := v.(string); !ok {
				return false
			}
		case "labels", "annotations":
			strs, ok := v.(map[string]any)
			if !ok {
				return false
			}
			for _, s := range strs {
				if _, ok := s.(string); !ok {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}
