package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"testing"
)

var fuzzEngines struct {
	once        sync.Once
	native, opa []*Engine
}

// FuzzNativeMatchesOPA: on any JSON object, the native path and OPA decide
// the same for every shipped charter. Seeded with the repository's objects.
func FuzzNativeMatchesOPA(f *testing.F) {
	for _, obj := range corpus(f) {
		data, err := json.Marshal(obj)
		if err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzEngines.once.Do(func() {
			for _, path := range charters {
				n, o := pair(t, path)
				fuzzEngines.native = append(fuzzEngines.native, n)
				fuzzEngines.opa = append(fuzzEngines.opa, o)
			}
		})
		var in map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil || in == nil {
			return
		}
		for i := range fuzzEngines.native {
			want, werr := fuzzEngines.opa[i].Decide(context.Background(), in)
			got, gerr := fuzzEngines.native[i].Decide(context.Background(), in)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s: errors differ: native %v, opa %v", charters[i], gerr, werr)
			}
			if werr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: native and OPA disagree on %s\nnative: %+v\nopa:    %+v", charters[i], data, got, want)
			}
		}
	})
}
