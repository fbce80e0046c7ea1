package kernel

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/charter-dev/charter/agent"
	"github.com/charter-dev/charter/charter"
)

// benchRules deny things the benchmark never touches, so every operation
// runs the full scope check and map lookups and then proceeds.
func benchRules() []agent.Rule {
	return []agent.Rule{{Article: "BENCH", Runtime: charter.Runtime{
		Exec:    &charter.ExecRule{Deny: []string{"/bin/sh", "/usr/bin/nc", "/opt/never/"}},
		Connect: &charter.ConnectRule{Deny: []string{"169.254.169.254/32", "10.0.0.0/8:443"}},
		Open:    &charter.OpenRule{DenyWrite: []string{"/opt/never/"}},
		Action:  "deny",
	}}}
}

// benchAllowRules add allow-lists that admit what the benchmarks run
// (/bin/true, this binary, the loopback listener), matched by identity.
func benchAllowRules() []agent.Rule {
	return append(benchRules(), agent.Rule{Article: "BENCH-ALLOW", Runtime: charter.Runtime{
		Exec:    &charter.ExecRule{Allow: []string{"/bin/true", os.Args[0]}, DenyFileless: true},
		Connect: &charter.ConnectRule{Allow: []string{"127.0.0.1/32"}},
		Action:  "deny",
	}})
}

// overhead runs op b.N times per mode (agent off, monitor and enforce with a
// deny-list, enforce with allow-lists and identities too), in interleaved
// rounds so that load from elsewhere on the machine hits every mode alike,
// and reports each mode's fastest round in ns/op and the ratios to off.
// make bench prints the ratios.
func overhead(b *testing.B, op func(b *testing.B, cg *cgroup, n int)) {
	const rounds = 10
	modes := []struct {
		name  string
		on    bool
		mode  agent.Mode
		rules func() []agent.Rule
	}{
		{"off", false, 0, nil},
		{"monitor", true, agent.ModeMonitor, benchRules},
		{"enforce", true, agent.ModeEnforce, benchRules},
		{"allow", true, agent.ModeEnforce, benchAllowRules},
	}
	cg := newCgroup(b, rootCgroup(b))
	per := max(b.N/rounds, 1)
	// The kernel's own accounting of program run time: a noise-free view of
	// the cost the wall-clock ratios measure on a possibly busy machine.
	stats, err := agent.EnableStats()
	if err != nil {
		b.Fatal(err)
	}
	defer stats.Close()
	progNs := map[string]float64{}
	best := make([]float64, len(modes))
	for r := range rounds {
		for i, m := range modes {
			var k *agent.Kernel
			if m.on {
				k = loadKernel(b, m.mode, m.rules(), cg.id)
				if r == 0 && m.mode == agent.ModeMonitor {
					b.Logf("hook path exercised: %s", k.Hook().Description())
				}
			}
			start := time.Now()
			op(b, cg, per)
			ns := float64(time.Since(start).Nanoseconds()) / float64(per)
			if r == 0 || ns < best[i] {
				best[i] = ns
			}
			if k != nil {
				st, err := k.Stats()
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range st {
					if s.RunCount > 0 && m.name == "allow" {
						progNs[s.Name] = float64(s.PerRun().Nanoseconds())
					}
				}
				k.Close()
			}
		}
	}
	b.ReportMetric(0, "ns/op")
	for i, m := range modes {
		b.ReportMetric(best[i], m.name+"-ns/op")
	}
	for i, m := range modes[1:] {
		b.ReportMetric(best[i+1]/best[0], m.name+"/off")
	}
	for name, ns := range progNs {
		b.ReportMetric(ns, name+"-ns/run")
	}
}

// BenchmarkExec forks and execs /bin/true inside the scoped cgroup.
func BenchmarkExec(b *testing.B) {
	requireKernel(b)
	overhead(b, func(b *testing.B, cg *cgroup, n int) {
		for range n {
			if err := cg.command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConnect times TCP connects to a local listener from a process in
// the scoped cgroup (the agent's own process is never in scope), so each
// round includes one helper start, the same in every mode.
func BenchmarkConnect(b *testing.B) {
	requireKernel(b)
	ln := benchListener(b)
	overhead(b, func(b *testing.B, cg *cgroup, n int) {
		cmd := cg.command(os.Args[0], ln, strconv.Itoa(n))
		cmd.Env = helperEnv("connect-loop")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("connect loop: %v: %s", err, out)
		}
	})
}

// BenchmarkUDP times unconnected UDP sends (sendto) from a process in the
// scoped cgroup: the cgroup sendmsg4 program runs on every datagram.
func BenchmarkUDP(b *testing.B) {
	requireKernel(b)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pc.Close() })
	go func() { // drain, so the socket buffer never fills
		buf := make([]byte, 64)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	overhead(b, func(b *testing.B, cg *cgroup, n int) {
		cmd := cg.command(os.Args[0], pc.LocalAddr().String(), strconv.Itoa(n))
		cmd.Env = helperEnv("udp-loop")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("udp loop: %v: %s", err, out)
		}
	})
}

func benchListener(b *testing.B) string {
	b.Helper()
	l, err := netListen()
	if err != nil {
		b.Fatal(err)
	}
	acceptAndClose(b, l)
	return l.Addr().String()
}

// BenchmarkEvents measures sustained event throughput at the default ring
// buffer size: a process in scope opens an audited file b.N times, each open
// is one event, and the reader must receive them all with none lost.
func BenchmarkEvents(b *testing.B) {
	requireKernel(b)
	cg := newCgroup(b, rootCgroup(b))
	dir := b.TempDir()
	file := filepath.Join(dir, "watched")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		b.Fatal(err)
	}
	rule := agent.Rule{Article: "BENCH", Runtime: charter.Runtime{Open: &charter.OpenRule{DenyRead: []string{file}}, Action: "audit"}}
	k := loadKernel(b, agent.ModeMonitor, []agent.Rule{rule}, cg.id)
	b.Logf("hook path exercised: %s", k.Hook().Description())
	r, err := k.NewEventReader()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	got := make(chan int)
	go func() {
		n := 0
		r.SetDeadline(time.Now().Add(time.Minute))
		for n < b.N {
			if _, err := r.Read(); err != nil {
				break
			}
			n++
		}
		got <- n
	}()
	cmd := cg.command(os.Args[0], file, strconv.Itoa(b.N))
	cmd.Env = helperEnv("open-loop")
	b.ResetTimer()
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("open loop: %v: %s", err, out)
	}
	var n int
	lost, err := k.LostEvents()
	if err != nil {
		b.Fatal(err)
	}
	if lost == 0 {
		n = <-got
	} else {
		r.Close()
		n = <-got
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lost), "lost")
	if lost != 0 || n != b.N {
		b.Errorf("received %d of %d events, %d lost", n, b.N, lost)
	}
}
