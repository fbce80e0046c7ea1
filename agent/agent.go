package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/version"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure an Agent.
type Options struct {
	Source      RuleSource
	Cgroups     []string // cgroup v2 directories in scope, absolute or relative to the mount
	Mode        Mode
	Auditor     audit.Sink // nil: no audit records
	Registry    *prometheus.Registry
	MetricsAddr string // "" serves no metrics
	Logger      *slog.Logger
	Kernel      KernelOptions
	ReloadEvery time.Duration // rules and scope are re-read this often; default 10s
	Node        string        // recorded in audit records
	// OverridesDir holds Override files (re-read at every reload): verified
	// overrides naming runtime articles exempt the matching pods' cgroups
	// until they expire (break-glass). "" disables overrides. The Source
	// must be an InfoSource (its council verifies them).
	OverridesDir string
	// Pods names the pods on this node; nil: the kubelet's pod log
	// directories (KubeletPodLogs{DefaultPodLogDir}).
	Pods PodDirectory
}

// Agent ties the kernel programs to a rule source, the audit log and metrics.
type Agent struct {
	opts     Options
	log      *slog.Logger
	kernel   *Kernel
	reader   *EventReader
	cgroups  *CgroupResolver
	metrics  *Metrics
	mu       sync.RWMutex
	rules    []Rule
	engine   *engine.Engine // decides events when the source gives one
	applied  string         // JSON of rules last written to the maps
	sameFile map[Ident][]string
	scopeKey string
	lostMu   sync.Mutex
	lastLost uint64
	glass    breakGlass
}

// New loads the programs and fills the maps from the source and cgroups.
func New(opts Options) (*Agent, error) {
	if opts.Source == nil {
		return nil, errors.New("agent needs a rule source")
	}
	if len(opts.Cgroups) == 0 {
		return nil, errors.New("agent needs at least one cgroup in scope")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReloadEvery <= 0 {
		opts.ReloadEvery = 10 * time.Second
	}
	if opts.OverridesDir != "" {
		if _, ok := opts.Source.(InfoSource); !ok {
			return nil, fmt.Errorf("overrides need the charter's council, and rule source %s does not give it", opts.Source)
		}
		if opts.Pods == nil {
			opts.Pods = KubeletPodLogs{Dir: DefaultPodLogDir}
		}
	}
	opts.Kernel.Logger = opts.Logger
	var reg prometheus.Registerer
	if opts.Registry != nil {
		reg = opts.Registry
	}
	a := &Agent{opts: opts, log: opts.Logger, metrics: NewMetrics(reg)}
	a.glass.rearm = make(chan struct{}, 1)
	k, err := LoadKernel(opts.Kernel)
	if err != nil {
		return nil, err
	}
	a.kernel = k
	a.cgroups = NewCgroupResolver(k.cgroupV2)
	a.metrics.hook.WithLabelValues(string(k.Hook())).Set(1)
	if reg != nil {
		if err := reg.Register(version.BuildInfoMetric(version.Get())); err != nil {
			k.Close()
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	if err := registerLost(reg, a.lost); err != nil {
		k.Close()
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	if err := a.Reload(); err != nil {
		k.Close()
		return nil, err
	}
	if err := k.SetMode(opts.Mode); err != nil {
		k.Close()
		return nil, err
	}
	if a.reader, err = k.NewEventReader(); err != nil {
		k.Close()
		return nil, err
	}
	a.log.Info("agent ready", "version", version.Get().String(), "mode", opts.Mode.String(), "hook", k.Hook(), "rules", len(a.rules), "source", opts.Source.String())
	return a, nil
}

// Hook is the hook path the kernel programs use.
func (a *Agent) Hook() HookPath { return a.kernel.Hook() }

// lost reads the kernel counter at scrape time; after Close it keeps
// reporting the last value read.
func (a *Agent) lost() float64 {
	n, err := a.kernel.LostEvents()
	a.lostMu.Lock()
	defer a.lostMu.Unlock()
	if err == nil {
		a.lastLost = n
	}
	return float64(a.lastLost)
}

// Reload re-reads rules and scope, resolves the exec rules' files to
// identities in the agent's own root and in every container found in scope,
// and updates the maps. The programs stay attached throughout.
func (a *Agent) Reload() error {
	rules, err := a.opts.Source.Rules()
	if err != nil {
		a.metrics.reloads.WithLabelValues("error").Inc()
		return fmt.Errorf("read rules from %s: %w", a.opts.Source, err)
	}
	dirs, ids := a.scopeDirs()
	var roots []Root
	if own, err := OwnRoot(); err == nil {
		roots = append([]Root{own}, ScopeRoots(dirs, own.MntNS)...)
	} else {
		a.log.Warn("own mount namespace unknown; identities resolved in containers only", "err", err)
		roots = ScopeRoots(dirs)
	}
	e, err := Compile(rules, roots)
	if err != nil {
		a.metrics.reloads.WithLabelValues("error").Inc()
		return fmt.Errorf("compile rules: %w", err)
	}
	if err := a.kernel.SetRules(e); err != nil {
		a.metrics.reloads.WithLabelValues("error").Inc()
		return err
	}
	key, _ := json.Marshal(rules)
	a.mu.Lock()
	a.sameFile = e.SameFile
	changed := string(key) != a.applied
	a.mu.Unlock()
	if changed {
		var eng *engine.Engine
		if es, ok := a.opts.Source.(EngineSource); ok {
			if eng, err = es.Engine(context.Background()); err != nil {
				a.metrics.errors.WithLabelValues("engine").Inc()
				a.log.Error("policy engine unavailable; events are recorded without engine decisions", "err", err)
			}
		}
		a.mu.Lock()
		a.rules, a.applied, a.engine = rules, string(key), eng
		a.mu.Unlock()
		a.metrics.rules.Set(float64(len(rules)))
		a.metrics.reloads.WithLabelValues("applied").Inc()
		a.log.Info("rules applied to kernel maps", "rules", len(rules), "mount_namespaces", len(roots), "identities", len(e.SameFile))
	}
	if err := a.refreshScope(ids); err != nil {
		return err
	}
	return a.refreshExemptions(true)
}

// scopeDirs resolves the configured cgroups to directories and ids; pods
// come and go, so a missing directory is logged and retried on the next tick.
func (a *Agent) scopeDirs() ([]string, []uint64) {
	var (
		dirs []string
		ids  []uint64
	)
	for _, c := range a.opts.Cgroups {
		p := c
		if !filepath.IsAbs(p) {
			p = filepath.Join(a.kernel.cgroupV2, p)
		}
		id, err := CgroupID(p)
		if err != nil {
			a.log.Warn("cgroup not in scope", "cgroup", c, "err", err)
			continue
		}
		dirs, ids = append(dirs, p), append(ids, id)
	}
	return dirs, ids
}

// refreshScope writes the scope map when the set of cgroup ids changed.
func (a *Agent) refreshScope(ids []uint64) error {
	key := fmt.Sprint(ids)
	if key == a.scopeKey {
		return nil
	}
	if err := a.kernel.SetScope(ids); err != nil {
		return err
	}
	a.scopeKey = key
	a.metrics.scope.Set(float64(len(ids)))
	a.log.Info("scope applied", "cgroups", len(ids))
	return nil
}

// Run reads events until ctx ends, reloading rules on a timer, then closes
// the agent.
func (a *Agent) Run(ctx context.Context) error {
	defer a.Close()
	defer a.lost() // remember the final count
	if a.opts.MetricsAddr != "" && a.opts.Registry != nil {
		ln, err := net.Listen("tcp", a.opts.MetricsAddr)
		if err != nil {
			return fmt.Errorf("listen for metrics: %w", err)
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(a.opts.Registry, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		a.log.Info("serving metrics", "addr", ln.Addr().String())
	}
	go func() {
		t := time.NewTicker(a.opts.ReloadEvery)
		defer t.Stop()
		// expiry fires when an override starts or expires, so an exemption
		// ends on time, not at the next reload tick.
		expiry := time.NewTimer(time.Hour)
		expiry.Stop()
		defer expiry.Stop()
		arm := func() {
			if next := a.nextExemptionChange(); !next.IsZero() {
				expiry.Reset(time.Until(next))
			}
		}
		arm()
		for {
			select {
			case <-ctx.Done():
				a.reader.Close()
				return
			case <-t.C:
				if err := a.Reload(); err != nil {
					a.log.Error("reload failed; keeping the rules in the kernel", "err", err)
				}
			case <-expiry.C:
				if err := a.refreshExemptions(false); err != nil {
					a.log.Error("break-glass exemptions not updated", "err", err)
				}
			case <-a.glass.rearm:
			}
			arm()
		}
	}()
	for {
		e, err := a.reader.Read()
		if errors.Is(err, ErrClosed) {
			return nil
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			a.metrics.errors.WithLabelValues("read").Inc()
			a.log.Warn("event", "err", err)
			continue
		}
		a.handle(e)
	}
}

func (a *Agent) handle(e Event) {
	a.metrics.events.WithLabelValues(e.Kind, e.Verdict).Inc()
	a.mu.RLock()
	var r Rule
	if e.Rule >= 1 && e.Rule <= len(a.rules) {
		r = a.rules[e.Rule-1]
	}
	eng := a.engine
	same := a.sameFile[e.Ident]
	a.mu.RUnlock()
	if e.Verdict == "denied" {
		a.metrics.denials.WithLabelValues(e.Kind, r.Article).Inc()
	}
	rec := AuditRecord{
		Header:  audit.Header{Time: time.Now().UTC(), Source: "agent", Decision: e.Verdict},
		Node:    a.opts.Node,
		Article: r.Article, Title: r.Title, Severity: r.Severity,
		Kind: e.Kind, Verdict: e.Verdict, Mode: a.opts.Mode.String(), Hook: e.Hook, Match: e.Match,
		PID: e.PID, PPID: e.PPID, UID: e.UID, Comm: e.Comm, Path: e.Path, Args: e.Args, Write: e.Write,
		CgroupID: e.CgroupID,
	}
	if e.Kind == "connect" {
		rec.Dest = e.Dest.String()
	}
	if e.Kind == "exec" {
		rec.Identity = e.Ident.String()
	}
	if eng != nil {
		a.decide(eng, e, same, &rec)
	}
	if p, err := a.cgroups.Path(e.CgroupID); err == nil {
		rec.Cgroup = p
		rec.Workload = ParseCgroupPath(p)
	} else {
		a.metrics.errors.WithLabelValues("cgroup").Inc()
	}
	if e.Verdict == VerdictExempt {
		rec.Override = a.exemptingOverride(filepath.Join(a.kernel.cgroupV2, rec.Cgroup), uint32(e.Rule))
	}
	a.log.Info("runtime decision", "article", rec.Article, "kind", rec.Kind, "verdict", rec.Verdict, "override", rec.Override,
		"pid", rec.PID, "comm", rec.Comm, "path", rec.Path, "dest", rec.Dest, "pod", rec.PodUID, "container", rec.ContainerID)
	if a.opts.Auditor != nil {
		if err := a.opts.Auditor.Append(context.Background(), &rec); err != nil {
			a.metrics.errors.WithLabelValues("audit").Inc()
			a.log.Error("audit", "err", err)
		}
	}
}

// decide asks the policy engine which articles the event falls under: the
// kernel matched a rule index, the engine names the article, its action and
// the message, and a disagreement between the two is counted and logged.
func (a *Agent) decide(eng *engine.Engine, e Event, sameFile []string, rec *AuditRecord) {
	// O_RDONLY is 0, O_WRONLY 1, O_RDWR 2: every access mode but write-only reads.
	ev := engine.RuntimeEvent{Kind: e.Kind, Path: e.Path, Write: e.Write, Read: e.Kind == "open" && e.Flags&3 != 1}
	if e.Kind == "exec" {
		ev.SameFileAs, ev.Fileless = sameFile, e.Fileless
	}
	if e.Kind == "connect" {
		ev.Dest = &engine.Dest{Addr: e.Dest.Addr().Unmap().String(), Port: int(e.Dest.Port())}
	}
	findings, err := eng.DecideRuntime(context.Background(), ev)
	if err != nil {
		a.metrics.errors.WithLabelValues("engine").Inc()
		a.log.Error("engine decision", "err", err)
		return
	}
	rec.Bundle = audit.BundleOf(eng.Revision(), eng.Bundle().Manifest.Metadata)
	for _, f := range findings {
		rec.Findings = append(rec.Findings, f.Article)
		rec.Articles = append(rec.Articles, audit.Article{ID: f.Article, Title: f.Title, Action: f.Action, Severity: f.Severity, Message: f.Message, Path: f.Path})
		if f.Article == rec.Article || rec.Article == "" {
			rec.Article, rec.Action, rec.Message = f.Article, f.Action, f.Message
		}
	}
	if rec.Action == "" {
		a.metrics.errors.WithLabelValues("engine_disagrees").Inc()
		a.log.Warn("kernel matched a rule the engine does not confirm", "article", rec.Article, "kind", e.Kind, "path", e.Path)
	}
}

// Close detaches the programs and frees the maps.
func (a *Agent) Close() error {
	if a.reader != nil {
		a.reader.Close()
	}
	return a.kernel.Close()
}
