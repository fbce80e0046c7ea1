package compiler

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	programv1 "github.com/charter-dev/charter/program/v1"
)

// TestProgramGolden pins the JSON of data.charter.program for a charter that
// uses every construct: a change of this file is a change of what shipped
// bundles mean, and needs a new program version unless it only adds.
func TestProgramGolden(t *testing.T) {
	out := compileFile(t, "testdata/program/v1.yaml")
	got, err := json.MarshalIndent(out.Program, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const golden = "testdata/program/v1.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./compiler -run TestProgramGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("program JSON differs from %s; run go test ./compiler -run TestProgramGolden -update and review the diff", golden)
	}
	// What the compiler writes, the engine's reader accepts.
	if _, err := programv1.Decode(want); err != nil {
		t.Errorf("golden program does not decode: %v", err)
	}
}
