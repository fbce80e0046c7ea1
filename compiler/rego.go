package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// keywords cannot follow a dot in a Rego reference.
var keywords = map[string]bool{
	"as": true, "default": true, "else": true, "import": true, "package": true, "not": true,
	"with": true, "some": true, "in": true, "every": true, "contains": true, "if": true,
	"true": true, "false": true, "null": true,
}

// term renders a JSON-compatible value as a Rego term.
func term(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("compiler: value %v is not JSON: %v", v, err)) // parser guarantees JSON values
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// setTerm renders a list as a Rego set literal, sorted for stable output.
func setTerm(list []any) string {
	if len(list) == 0 {
		return "set()"
	}
	items := make([]string, len(list))
	for i, v := range list {
		items[i] = term(v)
	}
	sort.Strings(items)
	items = dedupe(items)
	return "{" + strings.Join(items, ", ") + "}"
}

func stringSet(list []string) string {
	vals := make([]any, len(list))
	for i, s := range list {
		vals[i] = s
	}
	return setTerm(vals)
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// field renders one field step of a reference.
func field(name string) string {
	if isIdent(name) && !keywords[name] {
		return "." + name
	}
	return "[" + term(name) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// packageName turns an article id into a Rego package segment: ad_001.
func packageName(id string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(id) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if keywords[s] {
		s += "_"
	}
	return s
}

// writer builds Rego text with tab indentation, as opa fmt writes it.
type writer struct {
	b bytes.Buffer
}

func (w *writer) line(indent int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("\t", indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

func (w *writer) blank() { w.b.WriteByte('\n') }
