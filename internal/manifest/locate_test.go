package manifest

import (
	"bytes"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"
)

// convertsToNull is nullDocument without its shortcut: the decoder's own
// conversion.
func convertsToNull(doc []byte) bool {
	j, err := sigsyaml.YAMLToJSON(doc)
	t := bytes.TrimSpace(j)
	return err == nil && (len(t) == 0 || bytes.Equal(t, []byte("null")))
}

var nullDocCases = []struct {
	doc      string
	null     bool
	shortcut bool // decided without converting
}{
	{"apiVersion: v1\nkind: Pod\n", false, true},
	{"# header\n\n  # indented comment\nkind: Pod\n", false, true},
	{"kind:\n", false, true},
	{"app.kubernetes.io/name: x\n", false, true},
	{"kind: Pod\n- broken\n", false, true}, // an error: the decoder reports it
	{"", true, false},
	{"# only a comment\n", true, false},
	{"null\n", true, false},
	{"~\n", true, false},
	{"Null", true, false},
	{"key:value\n", false, false}, // a plain string, not a key
	{"key : value\n", false, false},
	{"  kind: Pod\n", false, false}, // indented: not decided by the shortcut
	{"- a\n", false, false},
	{"\"kind\": Pod\n", false, false},
	{"%YAML 1.1\n---\nkind: Pod\n", false, false},
	{"{}\n", false, false},
	{"!!null ''\n", true, false},
	{"kind: Pod\r\nmetadata: {}\r\n", false, true},
}

// TestNullDocument: the shortcut answers only where the conversion would
// give a non-null object or an error, and nullDocument always agrees with
// the conversion.
func TestNullDocument(t *testing.T) {
	for _, tc := range nullDocCases {
		doc := []byte(tc.doc)
		if got := startsWithKey(doc); got != tc.shortcut {
			t.Errorf("startsWithKey(%q) = %v, want %v", tc.doc, got, tc.shortcut)
		}
		if got, want := nullDocument(doc), convertsToNull(doc); got != want || got != tc.null {
			t.Errorf("nullDocument(%q) = %v, conversion %v, want %v", tc.doc, got, want, tc.null)
		}
	}
}

// FuzzNullDocument: on any input the shortcut never contradicts the
// conversion.
func FuzzNullDocument(f *testing.F) {
	for _, tc := range nullDocCases {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if got, want := nullDocument(doc), convertsToNull(doc); got != want {
			t.Errorf("nullDocument(%q) = %v, the conversion says %v", doc, got, want)
		}
	})
}
