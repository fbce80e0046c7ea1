package chartergen

import (
	"encoding/json"
	"testing"
)

func equalJSON(t *testing.T, x, y any) bool {
	t.Helper()
	a, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(y)
	if err != nil {
		t.Fatal(err)
	}
	return string(a) == string(b)
}
