//go:build linux

package cli

import (
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/charter-dev/charter/agent"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

type agentOptions struct {
	Bundle      string
	Charters    []string
	Cgroups     []string
	Mode        string
	Hooks       string
	CgroupRoot  string
	audit       auditOptions
	MetricsAddr string
	Reload      time.Duration
	Node        string
	VerifyKeys  []string
	Overrides   string
	PodLogDir   string
	loaderOptions
}

func (o *agentOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Bundle, "bundle", "", "bundle (.tar.gz, or a directory with a .manifest), charter file or directory, https:// bundle service, or oci://REGISTRY/REPO:TAG whose runtime rules to enforce")
	fs.StringArrayVar(&o.Charters, "charter", nil, "charter file or directory (instead of --bundle); repeatable")
	fs.StringArrayVar(&o.Cgroups, "cgroup", nil, "cgroup v2 directory in scope, absolute or relative to the cgroup v2 mount; repeatable")
	fs.StringVar(&o.Mode, "mode", "monitor", "monitor (report only) or enforce (kill and refuse)")
	fs.StringVar(&o.CgroupRoot, "cgroup-root", "", "the host's cgroup v2 mount (default: found in /proc/self/mountinfo); in a pod, the hostPath mount of it")
	fs.StringVar(&o.Hooks, "hooks", "auto", "auto (BPF LSM when available), lsm or tracepoint")
	o.audit.AddFlags(fs)
	fs.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics on ADDR, e.g. :9464")
	fs.DurationVar(&o.Reload, "reload", 10*time.Second, "how often to re-read rules and cgroups")
	fs.StringVar(&o.Node, "node", os.Getenv("NODE_NAME"), "node name recorded in audit records")
	o.loaderOptions.AddFlags(fs)
	addVerifyKeyFlag(fs, &o.VerifyKeys)
	fs.StringVar(&o.Overrides, "overrides", "", "directory of Override files, re-read at every --reload: a verified override naming runtime articles exempts the matching pods until it expires (break-glass)")
	fs.StringVar(&o.PodLogDir, "pod-log-dir", agent.DefaultPodLogDir, "the kubelet's pod log directory (NAMESPACE_NAME_UID), which names the pods on this node for --overrides")
}

func newAgentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Node agent enforcing a charter's runtime rules with eBPF",
	}
	o := &agentOptions{}
	run := &cobra.Command{
		Use:   "run (--bundle B | --charter C) --cgroup PATH... [--mode monitor|enforce] [--audit-log FILE] [--metrics-addr ADDR]",
		Short: "Load the eBPF programs and enforce until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode, err := agent.ParseMode(o.Mode)
			if err != nil {
				return badInput(err)
			}
			if len(o.Cgroups) == 0 {
				return badInput(errors.New("at least one --cgroup is required"))
			}
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			opts := agent.Options{
				Cgroups: o.Cgroups, Mode: mode, Logger: log, Node: o.Node,
				MetricsAddr: o.MetricsAddr, ReloadEvery: o.Reload, Kernel: agent.KernelOptions{Hooks: o.Hooks, CgroupRoot: o.CgroupRoot},
				OverridesDir: o.Overrides, Pods: agent.KubeletPodLogs{Dir: o.PodLogDir},
			}
			if o.MetricsAddr != "" {
				reg := prometheus.NewRegistry()
				reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
				opts.Registry = reg
			}
			sink, closeAudit, err := o.audit.open(cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return badInput(err)
			}
			defer closeAudit()
			opts.Auditor = sink
			var reg prometheus.Registerer // a nil *Registry is not a nil Registerer
			if opts.Registry != nil {
				reg = opts.Registry
			}
			src, err := o.ruleSource(cmd.Context(), policyOptions{Charters: o.Charters, Bundle: o.Bundle, VerifyKeys: o.VerifyKeys}, reg, log)
			if err != nil {
				return badInput(err)
			}
			opts.Source = src
			a, err := agent.New(opts)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return a.Run(ctx)
		},
	}
	o.AddFlags(run.Flags())
	cmd.AddCommand(run)
	return cmd
}
