package bundles

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzStrictJSON checks strictJSON against a plain restatement of its rule:
// it accepts exactly the valid JSON in valid UTF-8, without a byte-order
// mark, whose every member survives decoding (no key twice: the colons
// outside strings number the decoded members) and whose strings hold no
// U+FFFD.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`, `[{"a":1},{"a":1}]`, `{"a":1} {}`,
		`{"a":"\ud800"}`, "{\"a\":\"\xff\"}", "\uFEFF{}", `"x"`, `{"a:b":"c:d","e":[1,2,{"f":null}]}`,
		`{"\u0061":1,"a":2}`, `{"A":1,"a":2}`, ``, `  {}  `, `[[[]]]`, `{"a":"\\\"","b":"\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := strictJSON(data, false)
		want := json.Valid(data) && utf8.Valid(data) && !bytes.HasPrefix(data, []byte("\uFEFF"))
		if want {
			var v any
			if derr := json.Unmarshal(data, &v); derr != nil {
				t.Fatalf("json.Valid but does not decode: %v", derr)
			}
			want = membersOutsideStrings(data) == members(v) && !holdsReplacement(v)
		}
		if (err == nil) != want {
			t.Fatalf("strictJSON(%q) = %v, want accepted %v", data, err, want)
		}
		if err == nil {
			return
		}
		// foldTop only adds refusals.
		if ferr := strictJSON(data, true); ferr == nil {
			t.Fatalf("accepted with foldTop, refused without: %v", err)
		}
	})
}

// membersOutsideStrings counts the colons outside string literals of valid
// JSON: one per object member.
func membersOutsideStrings(data []byte) int {
	n, in, esc := 0, false, false
	for _, c := range data {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && c == ':':
			n++
		}
	}
	return n
}

func members(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := len(x)
		for _, e := range x {
			n += members(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += members(e)
		}
		return n
	}
	return 0
}

func holdsReplacement(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsRune(x, utf8.RuneError)
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, utf8.RuneError) || holdsReplacement(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if holdsReplacement(e) {
				return true
			}
		}
	}
	return false
}
