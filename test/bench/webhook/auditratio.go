package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// auditRatio measures charter+audit against charter with both servers up,
// alternating short closed-loop runs of the two (rounds of each, at each
// concurrency), so a change in the machine's load hits both alike. A ratio
// of two sequential runs, seconds apart on a shared machine, mostly
// measures the load; the sum over alternated rounds does not.
type auditRatio struct {
	inFlight  int
	plain     result // charter, summed over the rounds
	durable   result // charter+audit, summed over the rounds
	perRound  []float64
	fsyncLine string
}

func measureAuditRatio(c *http.Client, plain, durable *target, bodies [][]byte, inFlight []int, rounds int, each time.Duration) []auditRatio {
	var out []auditRatio
	for _, n := range inFlight {
		r := auditRatio{inFlight: n}
		closedLoop(c, plain, bodies, n, time.Second)
		closedLoop(c, durable, bodies, n, time.Second)
		before := durable.auditStats()
		for i := range rounds {
			fmt.Fprintf(os.Stderr, "bench: audit ratio: %d in flight, round %d of %d\n", n, i+1, rounds)
			p := closedLoop(c, plain, bodies, n, each)
			d := closedLoop(c, durable, bodies, n, each)
			r.plain, r.durable = r.plain.add(p), r.durable.add(d)
			r.perRound = append(r.perRound, d.rps()/p.rps())
		}
		if st := statsSub(durable.auditStats(), before); st.Commits > 0 && st.Syncs > 0 {
			r.fsyncLine = fmt.Sprintf("%.1f records per fsync, mean fsync %s", float64(st.Records)/float64(st.Commits), ms(st.SyncTime/time.Duration(st.Syncs)))
		}
		out = append(out, r)
	}
	return out
}

func (r auditRatio) String() string {
	rounds := make([]string, len(r.perRound))
	for i, x := range r.perRound {
		rounds[i] = fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%3d in flight: charter %6.0f req/s, charter+audit %6.0f req/s: %.2fx (rounds %s); p99 %s vs %s; %s",
		r.inFlight, r.plain.rps(), r.durable.rps(), r.durable.rps()/r.plain.rps(), strings.Join(rounds, " "),
		ms(r.plain.pct(0.99)), ms(r.durable.pct(0.99)), r.fsyncLine)
}
