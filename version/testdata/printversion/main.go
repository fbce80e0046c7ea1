// Command printversion prints version.Get() as JSON: TestMakeBuildStamps
// builds it with make's stamping flags (a small binary links in seconds,
// the whole CLI does not).
package main

import (
	"encoding/json"
	"os"

	"github.com/charter-dev/charter/version"
)

func main() {
	if err := json.NewEncoder(os.Stdout).Encode(version.Get()); err != nil {
		os.Exit(1)
	}
}
