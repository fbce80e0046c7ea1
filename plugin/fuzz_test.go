package plugin

import (
	"encoding/json"
	"testing"
)

// FuzzParseInput: any body either is left to OPA or gives an input that is
// the body's own "input" member, read as OPA reads it.
func FuzzParseInput(f *testing.F) {
	for _, s := range []string{`{"input": {"kind": "Pod"}}`, `{"input": null}`, `{}`, `{"input": 1e400}`, `{"input": {}} {}`, `{"input": "\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, ok := parseInput(body)
		if !ok {
			return
		}
		var whole map[string]json.RawMessage
		if err := json.Unmarshal(body, &whole); err != nil || len(whole) != 1 {
			t.Fatalf("parseInput accepted %q, which is not a one-member object (%v)", body, err)
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("parseInput(%q) gave an input that does not encode: %v", body, err)
		}
	})
}
