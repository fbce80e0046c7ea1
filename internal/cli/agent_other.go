//go:build !linux

package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

// newAgentCommand on other systems: the agent loads eBPF programs into the
// Linux kernel, so here it only says so (exit 2) instead of failing to build.
func newAgentCommand() *cobra.Command {
	linuxOnly := func(*cobra.Command, []string) error {
		return badInput(fmt.Errorf("charter agent runs only on Linux (it loads eBPF programs); this charter was built for %s", runtime.GOOS))
	}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Node agent enforcing a charter's runtime rules with eBPF (Linux only)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:                "run",
		Short:              "Load the eBPF programs and enforce (Linux only)",
		DisableFlagParsing: true,
		RunE:               linuxOnly,
	})
	return cmd
}
