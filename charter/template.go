package charter

import (
	"fmt"
	"strings"
)

// Template is a message with {{path}} placeholders. A placeholder is a path
// without wildcards over a root, or one of the witness names: value (the
// offending value), values (every offending value), field (its field path).
type Template struct {
	Pos   Pos
	Raw   string
	Parts []TemplatePart
}

// TemplatePart is literal text or one placeholder.
type TemplatePart struct {
	Text string
	Path *Path // nil for text
}

// Witness names usable in templates.
var witnessNames = map[string]bool{"value": true, "values": true, "field": true}

// ParseTemplate splits a message into text and placeholders.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{Raw: s}
	rest := s
	for rest != "" {
		open := strings.Index(rest, "{{")
		if open < 0 {
			t.Parts = append(t.Parts, TemplatePart{Text: rest})
			break
		}
		if open > 0 {
			t.Parts = append(t.Parts, TemplatePart{Text: rest[:open]})
		}
		end := strings.Index(rest[open:], "}}")
		if end < 0 {
			return nil, fmt.Errorf("message: {{ at offset %d is never closed", len(s)-len(rest)+open)
		}
		expr := strings.TrimSpace(rest[open+2 : open+end])
		p, err := ParsePath(expr)
		if err != nil {
			return nil, fmt.Errorf("message: %v", err)
		}
		if p.Wildcard() {
			return nil, fmt.Errorf("message: {{%s}} may not use [*] or globs; use {{values}} for every offending value", expr)
		}
		if witnessNames[p.Root] && len(p.Segs) > 0 {
			return nil, fmt.Errorf("message: {{%s}}: %s takes no field path", expr, p.Root)
		}
		t.Parts = append(t.Parts, TemplatePart{Path: p})
		rest = rest[open+end+2:]
	}
	return t, nil
}
