package charter

import (
	"errors"
	"strings"
	"testing"
)

// TestSyntaxErrorDepth: text nested deeper than maxColumnDepth brackets is
// positioned by yaml.v3's line alone, without the quadratic second parser;
// shallow text still gets its column.
func TestSyntaxErrorDepth(t *testing.T) {
	deep := "a: " + strings.Repeat("[", 50000) + "\n"
	e := SyntaxError("f.yaml", []byte(deep), errors.New("yaml: line 1: did not find expected node content"))
	if e.Pos != (Pos{File: "f.yaml", Line: 1, Col: 1}) || e.Msg != "invalid YAML: did not find expected node content" {
		t.Errorf("deep: %+v", e)
	}
	shallow := "a: b\nc: [d\n"
	e = SyntaxError("f.yaml", []byte(shallow), errors.New("yaml: line 2: did not find expected ',' or ']'"))
	if e.Pos.Line != 2 || e.Pos.Col <= 1 {
		t.Errorf("shallow: %+v, want line 2 with its column", e)
	}
	for _, tc := range []struct {
		text string
		want int
	}{{"", 0}, {"a: b", 0}, {"[{}]", 2}, {"]]][", 1}, {"[[x]] [y]", 2}} {
		if got := flowDepth([]byte(tc.text)); got != tc.want {
			t.Errorf("flowDepth(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
}
