package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/charter-dev/charter/plugin"
	opacmd "github.com/open-policy-agent/opa/cmd"
	"github.com/open-policy-agent/opa/v1/runtime"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// opaRunOptions are the flags `charter opa run` adds to OPA's own: a
// shorthand for plugins.charter in OPA's configuration.
type opaRunOptions struct {
	Bundle       string
	Keys         []string
	StateDir     string
	PollInterval string
	AuditLog     string
	AuditSync    bool
	Overrides    string
}

func (o *opaRunOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Bundle, "charter-bundle", "", "charter bundle the charter plugin verifies and activates under data.charter (= --set plugins.charter.bundle=...; also decision_logs.plugin=charter unless --set gives one)")
	fs.StringArrayVar(&o.Keys, "charter-verify-key", nil, "public key (cosign format) the charter bundle must be signed with; repeatable (= plugins.charter.keys)")
	fs.StringVar(&o.StateDir, "charter-state-dir", "", "keep the last good charter bundle and the serial floor here (= plugins.charter.state_dir)")
	fs.StringVar(&o.PollInterval, "charter-poll-interval", "", "how often to check the charter bundle source, e.g. 10s (= plugins.charter.poll_interval)")
	fs.StringVar(&o.AuditLog, "charter-audit-log", "", "charter's audit log for every charter decision; - for JSON lines on stdout (= plugins.charter.audit_log)")
	fs.StringVar(&o.Overrides, "charter-overrides", "", "directory of Override documents: those the charter's council approved go into OPA's store at data.charter_overrides and lift matching denials; read again every poll interval and when an override starts or expires (= plugins.charter.overrides)")
	fs.BoolVar(&o.AuditSync, "charter-audit-sync", false, "answer only once the decision's record is on disk (= plugins.charter.audit_sync)")
}

// overrides turns the flags into OPA --set values.
func (o *opaRunOptions) overrides(existing []string) ([]string, error) {
	if o.Bundle == "" {
		if len(o.Keys) > 0 || o.StateDir != "" || o.PollInterval != "" || o.AuditLog != "" || o.AuditSync || o.Overrides != "" {
			return nil, fmt.Errorf("the --charter-* flags need --charter-bundle (or configure plugins.%s in the configuration file)", plugin.Name)
		}
		return nil, nil
	}
	set := []string{"plugins.charter.bundle=" + escapeSet(o.Bundle)}
	for i, k := range o.Keys {
		set = append(set, fmt.Sprintf("plugins.charter.keys[%d]=%s", i, escapeSet(k)))
	}
	for key, v := range map[string]string{"state_dir": o.StateDir, "poll_interval": o.PollInterval, "audit_log": o.AuditLog, "overrides": o.Overrides} {
		if v != "" {
			set = append(set, "plugins.charter."+key+"="+escapeSet(v))
		}
	}
	if o.AuditSync {
		set = append(set, "plugins.charter.audit_sync=true")
	}
	routed := false
	for _, s := range existing {
		routed = routed || strings.HasPrefix(s, "decision_logs.plugin=")
	}
	if !routed {
		set = append(set, "decision_logs.plugin="+plugin.Name)
	}
	return set, nil
}

// escapeSet quotes what OPA's --set parser reads as syntax: commas separate
// values, backslashes escape.
func escapeSet(v string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`).Replace(v)
}

// newOPACommand is OPA's own command line (github.com/open-policy-agent/opa/cmd,
// unforked) with the charter plugin registered into its runtime.
func newOPACommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "opa",
		Short: "The OPA command line (run, eval, test, build...) with the charter plugin in its runtime: charter opa run --server --charter-bundle B",
		Long: "The stock OPA runtime and CLI with the charter plugin registered (plugins.charter): it verifies the charter bundle\n" +
			"with charter's keys and rollback rules before activating it under data.charter, answers\n" +
			"POST /v1/data/charter/decision with charter's native evaluator, and sends every charter decision to charter's\n" +
			"audit log. See docs/opa-plugin.md.",
		// OPA's commands print their own usage and errors where they want them.
		SilenceUsage: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			runtime.RegisterPlugin(plugin.Name, plugin.NewFactory(slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))))
			return nil
		},
	}
	opacmd.Command(cmd, "OPA")
	for _, sub := range cmd.Commands() {
		if sub.Name() == "run" {
			addCharterRunFlags(sub)
		}
	}
	return cmd
}

// addCharterRunFlags adds the --charter-* flags to OPA's run command.
func addCharterRunFlags(run *cobra.Command) {
	var o opaRunOptions
	o.AddFlags(run.Flags())
	opaPreRun := run.PreRunE
	run.PreRunE = func(cmd *cobra.Command, args []string) error {
		existing, err := cmd.Flags().GetStringArray("set")
		if err != nil {
			return err
		}
		set, err := o.overrides(existing)
		if err != nil {
			return badInput(err)
		}
		for _, s := range set {
			if err := cmd.Flags().Set("set", s); err != nil {
				return badInput(err)
			}
		}
		if opaPreRun != nil {
			return opaPreRun(cmd, args)
		}
		return nil
	}
}
