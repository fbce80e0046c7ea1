// Command charter compiles charters to OPA bundles and enforces them in CI,
// at admission and at runtime.
package main

import (
	"os"

	"github.com/charter-dev/charter/internal/cli"
)

func main() { os.Exit(cli.Main()) }
