// Command webhook is the `make bench` three-way admission benchmark: charter's
// webhook (PSS restricted charter) against the upstream Pod Security Admission
// webhook (restricted by default) and `opa run --server` with the same
// compiled bundle, each in its own process, driven by the same HTTPS
// keep-alive client over the same AdmissionReview corpus. It prints req/s,
// p50, p99 and peak RSS per target, the ratios, and p99 at a fixed 500 req/s.
// One more row runs charter's webhook with the durable audit log
// (--audit-log --audit-sync: each answer waits for its record's fsync), and
// one `charter opa run` (OPA's runtime with the charter plugin) answering the
// same POST /v1/data/charter/decision as opa-server.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/charter-dev/charter/audit"
	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/charter"
	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/internal/cli"
	"github.com/charter-dev/charter/test/bench"
	"github.com/charter-dev/charter/test/e2e/cluster"
	"github.com/charter-dev/charter/webhook"
	"github.com/charter-dev/charter/webhook/certs"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const namespace = "bench"

// syncInterval is passed to the charter+audit target.
var syncInterval time.Duration

// auditRounds is the number of alternated rounds of the audit ratio.
var auditRounds int

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve-charter-opa" {
		// `charter opa run` (OPA's runtime with the charter plugin), in this binary.
		os.Exit(cli.Run(context.Background(), append([]string{"opa"}, os.Args[2:]...), cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
	}
	if len(os.Args) > 1 && os.Args[1] == "serve-charter" {
		if err := serveCharter(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "serve-charter:", err)
			os.Exit(1)
		}
		return
	}
	var (
		policy      = flag.String("charter", "policies/pod-security-restricted.yaml", "charter to enforce (charter and opa)")
		n           = flag.Int("corpus", 400, "AdmissionReviews in the corpus")
		concurrency = flag.Int("concurrency", 8, "requests in flight in the throughput run")
		duration    = flag.Duration("duration", 8*time.Second, "length of each throughput run")
		rate        = flag.Int("rate", 500, "requests per second in the latency run")
		rateFor     = flag.Duration("rate-duration", 5*time.Second, "length of each latency run")
		keep        = flag.Bool("keep", false, "keep the working directory")
		only        = flag.String("targets", "charter,charter+audit,psa-webhook,opa-server,charter-opa", "targets to run, comma separated")
	)
	flag.DurationVar(&syncInterval, "audit-sync-interval", audit.DefaultMinSyncInterval, "charter+audit: --audit-sync-interval, the least time between two group commits' fsyncs")
	flag.IntVar(&auditRounds, "audit-rounds", 3, "alternated rounds of charter and charter+audit, at the corpus concurrency and at 4x it (0: none)")
	flag.Parse()
	if err := run(*policy, *n, *concurrency, *duration, *rate, *rateFor, *keep, strings.Split(*only, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// serveCharter is the charter target's process: the webhook package as
// `charter webhook serve` runs it, with or without a durable audit log.
func serveCharter(args []string) error {
	fs := flag.NewFlagSet("serve-charter", flag.ExitOnError)
	var o webhook.Options
	var auditLog string
	var syncInterval time.Duration
	fs.StringVar(&o.BundlePath, "bundle", "", "")
	fs.StringVar(&o.CertFile, "tls-cert", "", "")
	fs.StringVar(&o.KeyFile, "tls-key", "", "")
	fs.StringVar(&o.Listen, "listen", "", "")
	fs.StringVar(&auditLog, "audit-log", "", "")
	fs.DurationVar(&syncInterval, "audit-sync-interval", 0, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if auditLog != "" {
		l, err := audit.Open(auditLog, audit.Options{Sync: true, MinSyncInterval: syncInterval})
		if err != nil {
			return err
		}
		defer l.Close()
		o.Audit, o.AuditSync = l, true
		// SIGUSR1 prints the log's counters, for the records per fsync of
		// the throughput run.
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		go func() {
			for range usr1 {
				st := l.Stats()
				fmt.Fprintf(os.Stderr, "%s %d %d %d %d\n", auditStatsPrefix, st.Records, st.Commits, st.Syncs, st.SyncTime)
			}
		}()
	}
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	s, err := webhook.New(ctx, o)
	if err != nil {
		return err
	}
	return s.ListenAndServe(ctx)
}

func run(policy string, n, concurrency int, duration time.Duration, rate int, rateFor time.Duration, keep bool, only []string) error {
	want := map[string]bool{}
	for _, t := range only {
		want[strings.TrimSpace(t)] = true
	}
	root, err := cluster.Root()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	opa := filepath.Join(root, "bin", "opa")
	psa := filepath.Join(root, "bin", "pod-security-webhook")
	for name, p := range map[string]string{"opa-server": opa, "psa-webhook": psa} {
		if !want[name] {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing: run make tools", p)
		}
	}
	dir, err := os.MkdirTemp("", "charter-bench-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}

	// The same bundle for charter and opa, the same certificate for all three.
	c, err := charter.Load(policy)
	if err != nil {
		return err
	}
	out, err := compiler.Compile(c)
	if err != nil {
		return err
	}
	files, err := bundles.FromOutput(out)
	if err != nil {
		return err
	}
	tgz, err := files.TarGz()
	if err != nil {
		return err
	}
	bundlePath := filepath.Join(dir, "bundle.tar.gz")
	if err := os.WriteFile(bundlePath, tgz, 0o644); err != nil {
		return err
	}
	cb, err := certs.Generate(certs.Options{Service: "bench", Namespace: "bench"})
	if err != nil {
		return err
	}
	tlsDir := filepath.Join(dir, "tls")
	if err := cb.Write(tlsDir); err != nil {
		return err
	}
	certFile, keyFile := filepath.Join(tlsDir, certs.CertFile), filepath.Join(tlsDir, certs.KeyFile)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(cb.CA)
	client := httpsClient(&tls.Config{RootCAs: roots, ServerName: "localhost"}, max(concurrency, 64))

	kubeconfig := filepath.Join(dir, "kubeconfig")
	if want["psa-webhook"] {
		// The upstream webhook reads namespaces from an apiserver: the e2e one.
		fmt.Fprintln(os.Stderr, "bench: starting etcd and kube-apiserver for the PSA webhook")
		cl, err := cluster.Start(context.Background(), root, filepath.Join(dir))
		if err != nil {
			return err
		}
		defer cl.Stop()
		cs, err := kubernetes.NewForConfig(cl.RestConfig())
		if err != nil {
			return err
		}
		if _, err := cs.CoreV1().Namespaces().Create(context.Background(),
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		if err := cl.WriteKubeconfig(kubeconfig); err != nil {
			return err
		}
	}
	psaConfig := filepath.Join(dir, "psa.yaml")
	if err := os.WriteFile(psaConfig, []byte(`apiVersion: pod-security.admission.config.k8s.io/v1
kind: PodSecurityConfiguration
defaults: {enforce: restricted, enforce-version: latest, audit: restricted, audit-version: latest, warn: restricted, warn-version: latest}
exemptions: {usernames: [], runtimeClasses: [], namespaces: []}
`), 0o644); err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	ports := make([]int, 5)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	base := func(p int) string { return "https://127.0.0.1:" + strconv.Itoa(p) }
	targets := []*target{
		{name: "charter", url: base(ports[0]) + "/validate", ready: base(ports[0]) + "/readyz", body: identity, allowed: reviewAllowed,
			cmd: exec.Command(self, "serve-charter", "-bundle", bundlePath, "-tls-cert", certFile, "-tls-key", keyFile,
				"-listen", "127.0.0.1:"+strconv.Itoa(ports[0]))},
		{name: "psa-webhook", url: base(ports[1]) + "/", ready: base(ports[1]) + "/readyz", body: identity, allowed: reviewAllowed,
			cmd: exec.Command(psa, "--config", psaConfig, "--kubeconfig", kubeconfig, "--bind-address", "127.0.0.1",
				"--secure-port", strconv.Itoa(ports[1]), "--tls-cert-file", certFile, "--tls-private-key-file", keyFile)},
		{name: "opa-server", url: base(ports[2]) + "/v1/data/charter/decision", ready: base(ports[2]) + "/health?bundles", body: opaInput, allowed: opaAllowed,
			cmd: exec.Command(opa, "run", "--server", "--addr", "127.0.0.1:"+strconv.Itoa(ports[2]),
				"--tls-cert-file", certFile, "--tls-private-key-file", keyFile, "--log-level", "error", "--bundle", bundlePath)},
		{name: "charter+audit", url: base(ports[3]) + "/validate", ready: base(ports[3]) + "/readyz", body: identity, allowed: reviewAllowed,
			cmd: exec.Command(self, "serve-charter", "-bundle", bundlePath, "-tls-cert", certFile, "-tls-key", keyFile,
				"-listen", "127.0.0.1:"+strconv.Itoa(ports[3]), "-audit-log", filepath.Join(dir, "audit.jsonl"),
				"-audit-sync-interval", syncInterval.String())},
		{name: "charter-opa", url: base(ports[4]) + "/v1/data/charter/decision", ready: base(ports[4]) + "/health?plugins", body: opaInput, allowed: opaAllowed,
			cmd: exec.Command(self, "serve-charter-opa", "run", "--server", "--addr", "127.0.0.1:"+strconv.Itoa(ports[4]),
				"--tls-cert-file", certFile, "--tls-private-key-file", keyFile, "--log-level", "error", "--charter-bundle", bundlePath)},
	}
	targets = slices.DeleteFunc(targets, func(t *target) bool { return !want[t.name] })
	reviews, err := corpus(n, namespace)
	if err != nil {
		return err
	}
	size := 0
	for _, r := range reviews {
		size += len(r)
	}
	fmt.Fprintf(os.Stderr, "bench: corpus %d AdmissionReviews (Pods and Deployments, half violating), mean %d bytes\n", n, size/n)

	type row struct {
		name         string
		denied       int
		tput, atRate result
		rss          int64
		cpuPerReq    time.Duration
	}
	var rows []row
	byName := map[string]row{}
	auditLine := ""
	kept := map[string]*target{}
	for _, t := range targets {
		if err := t.start(dir); err != nil {
			return err
		}
		if err := t.waitReady(client); err != nil {
			t.stop()
			return err
		}
		bodies := make([][]byte, len(reviews))
		for i, r := range reviews {
			bodies[i] = t.body(r)
		}
		denied, err := decisions(client, t, bodies)
		if err != nil {
			t.stop()
			return err
		}
		fmt.Fprintf(os.Stderr, "bench: %s: warm-up\n", t.name)
		closedLoop(client, t, bodies, concurrency, 2*time.Second)
		fmt.Fprintf(os.Stderr, "bench: %s: %d in flight for %s\n", t.name, concurrency, duration)
		before, cpu0 := t.auditStats(), t.cpuTime()
		tput := closedLoop(client, t, bodies, concurrency, duration)
		cpu := t.cpuTime() - cpu0
		if after := t.auditStats(); after.Commits > before.Commits {
			d := statsSub(after, before)
			auditLine = fmt.Sprintf("%s throughput run: %d records in %d group commits (%.1f records per fsync, %.0f fsyncs/s), mean fsync %s, %d fsyncs in all",
				t.name, d.Records, d.Commits, float64(d.Records)/float64(d.Commits), float64(d.Commits)/tput.elapsed.Seconds(),
				ms(d.SyncTime/time.Duration(d.Syncs)), d.Syncs)
		}
		fmt.Fprintf(os.Stderr, "bench: %s: %d req/s for %s\n", t.name, rate, rateFor)
		atRate := fixedRate(client, t, bodies, rate, rateFor)
		rows = append(rows, row{name: t.name, denied: denied, tput: tput, atRate: atRate, rss: t.peakRSS(), cpuPerReq: cpu / time.Duration(max(tput.requests, 1))})
		byName[t.name] = rows[len(rows)-1]
		if t.name == "charter" || t.name == "charter+audit" {
			kept[t.name] = t // for the alternated audit ratio below
			defer t.stop()
			continue
		}
		t.stop()
	}
	var ratios []auditRatio
	if plain, durable := kept["charter"], kept["charter+audit"]; plain != nil && durable != nil && auditRounds > 0 {
		ratios = measureAuditRatio(client, plain, durable, reviews, []int{concurrency, 4 * concurrency}, auditRounds, duration/2)
	}

	fmt.Printf("\nadmission webhooks, %d AdmissionReviews (Pods and Deployments, half violating PSS restricted), HTTPS keep-alive, %d in flight, GOMAXPROCS=%d, load average %s\n",
		n, concurrency, runtimeCPUs(), bench.LoadAverage())
	fmt.Printf("%-13s %10s %9s %9s %9s %9s %12s %8s %8s %9s\n", "target", "req/s", "p50", "p99", "p50@"+strconv.Itoa(rate), "p99@"+strconv.Itoa(rate), "peak RSS", "denied", "errors", "CPU/req")
	for _, r := range rows {
		fmt.Printf("%-13s %10.0f %9s %9s %9s %9s %10.1f MiB %8d %8d %9s\n", r.name, r.tput.rps(),
			ms(r.tput.pct(0.5)), ms(r.tput.pct(0.99)), ms(r.atRate.pct(0.5)), ms(r.atRate.pct(0.99)),
			float64(r.rss)/(1<<20), r.denied, r.tput.errors+r.atRate.errors, ms(r.cpuPerReq))
	}
	ch, haveCh := byName["charter"]
	fmt.Println()
	if opaRow, ok := byName["opa-server"]; ok && haveCh {
		fmt.Printf("charter / opa-server throughput: %.2fx (target >= 2x)\n", ch.tput.rps()/opaRow.tput.rps())
	}
	if co, ok := byName["charter-opa"]; ok {
		if opaRow, ok := byName["opa-server"]; ok {
			fmt.Printf("charter-opa (charter opa run) / opa-server throughput: %.2fx (target >= 1.5x); p99 %s vs %s (%.2fx)\n",
				co.tput.rps()/opaRow.tput.rps(), ms(co.tput.pct(0.99)), ms(opaRow.tput.pct(0.99)), float64(co.tput.pct(0.99))/float64(opaRow.tput.pct(0.99)))
		}
		if haveCh {
			fmt.Printf("charter-opa / charter webhook throughput: %.2fx; p99 %s vs %s (%.2fx)\n",
				co.tput.rps()/ch.tput.rps(), ms(co.tput.pct(0.99)), ms(ch.tput.pct(0.99)), float64(co.tput.pct(0.99))/float64(ch.tput.pct(0.99)))
		}
	}
	if psaRow, ok := byName["psa-webhook"]; ok && haveCh {
		fmt.Printf("charter / psa-webhook throughput: %.2fx (target >= 0.5x)\n", ch.tput.rps()/psaRow.tput.rps())
	}
	if haveCh {
		fmt.Printf("charter p99 at %d req/s: %s (target < 5ms)\n", rate, ms(ch.atRate.pct(0.99)))
	}
	if au, ok := byName["charter+audit"]; ok && haveCh {
		fmt.Printf("charter+audit (--audit-sync, fsync group commit, min fsync interval %s) / charter throughput: %.2fx (target >= 0.8x); p99 at %d req/s %s\n",
			syncInterval, au.tput.rps()/ch.tput.rps(), rate, ms(au.atRate.pct(0.99)))
	}
	if auditLine != "" {
		fmt.Println(auditLine)
	}
	if len(ratios) > 0 {
		fmt.Printf("charter+audit / charter, both servers up, %d alternated rounds of %s each (min fsync interval %s):\n", auditRounds, duration/2, syncInterval)
		for _, r := range ratios {
			fmt.Println("  " + r.String())
		}
	}
	fmt.Println("CPU/req: the server process's CPU time (user + system) per request in the throughput run.")
	fmt.Println("denied: of the corpus; the PSA webhook only warns on Deployments (it enforces on Pods), charter and opa deny both.")
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
