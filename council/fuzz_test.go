package council

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse: any input is an authentic share or an ErrMalformed/ErrTampered
// error, never a panic; a share that parses survives Marshal and Parse.
func FuzzParse(f *testing.F) {
	c, err := Split(3, 2)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range c.Shares {
		data, _ := s.Marshal()
		f.Add(data)
	}
	f.Add([]byte(`{"apiVersion":"charter.dev/v1","kind":"CouncilShare"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTampered) {
				t.Fatalf("Parse error %v is neither ErrMalformed nor ErrTampered", err)
			}
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(s)): %v", err)
		}
		p1, _ := Payload(s)
		p2, _ := Payload(back)
		if !bytes.Equal(p1, p2) {
			t.Fatalf("payload changed through Marshal and Parse")
		}
	})
}
