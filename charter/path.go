package charter

import (
	"fmt"
	"strconv"
	"strings"
)

// SegKind says what one step of a path does.
type SegKind int

// Path steps.
const (
	SegField SegKind = iota // .name or ["name"]
	SegIndex                // [3]
	SegAll                  // [*]: every list element or map value
	SegGlob                 // ["prefix/*"]: map values whose key matches the glob
)

// Seg is one step of a path.
type Seg struct {
	Kind  SegKind
	Name  string // field name or glob pattern
	Index int
}

// Path is a parsed field path such as container.securityContext.capabilities.add[*].
type Path struct {
	Pos  Pos
	Raw  string
	Root string
	Segs []Seg
}

// Wildcard reports whether the path can reach more than one value.
func (p *Path) Wildcard() bool {
	for _, s := range p.Segs {
		if s.Kind == SegAll || s.Kind == SegGlob {
			return true
		}
	}
	return false
}

// String renders the path back in charter syntax.
func (p *Path) String() string {
	var b strings.Builder
	b.WriteString(p.Root)
	for _, s := range p.Segs {
		b.WriteString(s.String())
	}
	return b.String()
}

func (s Seg) String() string {
	switch s.Kind {
	case SegIndex:
		return "[" + strconv.Itoa(s.Index) + "]"
	case SegAll:
		return "[*]"
	case SegGlob:
		return "[" + strconv.Quote(s.Name) + "]"
	}
	if isIdent(s.Name) {
		return "." + s.Name
	}
	return "[" + strconv.Quote(s.Name) + "]"
}

// ParsePath parses a path: a root name followed by .field, [N], [*] or ["key"]
// steps. A quoted key containing * or ? is a glob over map keys.
func ParsePath(s string) (*Path, error) {
	p := &Path{Raw: s}
	i := 0
	for i < len(s) && isIdentByte(s[i], i == 0) {
		i++
	}
	if i == 0 {
		return nil, fmt.Errorf("path %q must start with a root name (object, pod or the foreach name)", s)
	}
	p.Root = s[:i]
	for i < len(s) {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && isIdentByte(s[j], j == i+1) {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("path %q: expected a field name at offset %d (quote keys with dots or slashes: [\"a.b/c\"])", s, i+1)
			}
			p.Segs = append(p.Segs, Seg{Kind: SegField, Name: s[i+1 : j]})
			i = j
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if s[i+1:] != "" && s[i+1] == '"' {
				key, rest, err := unquotePrefix(s[i+1:])
				if err != nil || !strings.HasPrefix(rest, "]") {
					return nil, fmt.Errorf("path %q: bad quoted key at offset %d", s, i)
				}
				kind := SegField
				if strings.ContainsAny(key, "*?") {
					kind = SegGlob
					if err := checkGlob(fmt.Sprintf("path %q", s), key); err != nil {
						return nil, err
					}
				}
				p.Segs = append(p.Segs, Seg{Kind: kind, Name: key})
				i = len(s) - len(rest) + 1
				continue
			}
			if end < 0 {
				return nil, fmt.Errorf("path %q: missing ] after offset %d", s, i)
			}
			inner := s[i+1 : i+end]
			switch {
			case inner == "*":
				p.Segs = append(p.Segs, Seg{Kind: SegAll})
			default:
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("path %q: [%s] must be [*], a non-negative index or a quoted key", s, inner)
				}
				p.Segs = append(p.Segs, Seg{Kind: SegIndex, Index: n})
			}
			i += end + 1
		default:
			return nil, fmt.Errorf("path %q: unexpected %q at offset %d", s, s[i], i)
		}
	}
	return p, nil
}

// unquotePrefix reads one Go-quoted string at the start of s.
func unquotePrefix(s string) (string, string, error) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			return v, s[i+1:], err
		}
	}
	return "", "", fmt.Errorf("unterminated string")
}

func isIdentByte(c byte, first bool) bool {
	switch {
	case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return true
	case c >= '0' && c <= '9':
		return !first
	}
	return false
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i], i == 0) {
			return false
		}
	}
	return true
}
