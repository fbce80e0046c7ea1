package webhook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-dev/charter/engine"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// gatedBody serves head at once, then signals reached when it is asked for
// more and waits for release before serving the rest: since the budget is
// reserved before a body is read past its head, a request whose body
// reached that point holds its reservation.
type gatedBody struct {
	head, rest string
	served     chan struct{} // closed once the head is served (optional)
	reached    chan struct{}
	release    chan struct{}
	once       sync.Once
}

func (g *gatedBody) Read(p []byte) (int, error) {
	if g.head != "" {
		n := copy(p, g.head)
		g.head = g.head[n:]
		if g.head == "" && g.served != nil {
			close(g.served)
		}
		return n, nil
	}
	g.once.Do(func() { close(g.reached); <-g.release })
	if g.rest == "" {
		return 0, io.EOF
	}
	n := copy(p, g.rest)
	g.rest = g.rest[n:]
	return n, nil
}

// budgetReview is a review, uid first, whose object carries pad bytes.
func budgetReview(uid string, pad int) string {
	return strings.Replace(uidFirst, "u-slow", uid, 1) + strings.Repeat("a", pad) + tail
}

func postSized(h http.Handler, body io.Reader, size int) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/validate", body)
	r.Header.Set("Content-Type", "application/json")
	r.ContentLength = int64(size)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// uidOf is request.uid of an engine input.
func uidOf(input any) string {
	top, _ := input.(ast.Object)
	if top == nil {
		return ""
	}
	if req, ok := top.Get(ast.StringTerm("request")).Value.(ast.Object); ok {
		return stringField(req, "uid")
	}
	return ""
}

// TestDecodeBudgetAcrossRequests: while one review holds the whole decoding
// budget, another waits for it and, when its deadline passes first, is
// denied with its uid (fail-open or not: it was never decided), or refused
// with 503 when its uid was not read yet; once the first is answered the
// budget is free again. No timing is asserted: the first request is held
// at a known point by its body, the others only need their deadline to pass.
func TestDecodeBudgetAcrossRequests(t *testing.T) {
	var mu sync.Mutex
	decided := map[string]bool{}
	d := fakeDecider{func(_ context.Context, input any) (engine.Decision, error) {
		mu.Lock()
		defer mu.Unlock()
		decided[uidOf(input)] = true
		return engine.Decision{Allowed: true}, nil
	}}
	a := budgetReview("u-a", 8<<10)
	budget := NewDecodeBudget(DecodeCost(int64(len(a))))
	m := NewMetrics(nil)
	sink := &memorySink{}
	holding := NewHandler(HandlerOptions{Source: Fixed(d), Timeout: time.Minute, DecodeBudget: budget, Metrics: m, Logger: quiet})
	impatient := NewHandler(HandlerOptions{Source: Fixed(d), Timeout: 30 * time.Millisecond, FailOpen: true, DecodeBudget: budget,
		Metrics: m, Audit: sink, Logger: quiet})

	body := &gatedBody{head: a[:budgetHead], rest: a[budgetHead:], reached: make(chan struct{}), release: make(chan struct{})}
	answered := make(chan *httptest.ResponseRecorder)
	go func() { answered <- postSized(holding, body, len(a)) }()
	<-body.reached
	if got := testutil.ToFloat64(m.DecodeMemoryReserved); got != float64(budget.Size()) {
		t.Fatalf("reserved %v bytes while u-a is read, want the whole budget %d", got, budget.Size())
	}

	b := budgetReview("u-b", 10)
	resp := decodeResponse(t, postSized(impatient, strings.NewReader(b), len(b)))
	if resp.Allowed || resp.UID != "u-b" {
		t.Fatalf("u-b without budget: %+v, want a denial for u-b", resp)
	}
	for _, want := range []string{"no decoding memory for this review within its deadline", "denies it (fail closed)"} {
		if !strings.Contains(resp.Result.Message, want) {
			t.Errorf("message %q does not contain %q", resp.Result.Message, want)
		}
	}
	if rec := sink.last(t); rec.UID != "u-b" || rec.Decision != "denied" || rec.Evaluated {
		t.Errorf("audit record = %+v", rec)
	}
	// Its uid comes after a long object: not read when it waits.
	c := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"object":{"x":"` + strings.Repeat("a", 8<<10) + `"},"uid":"u-c"}}`
	w := postSized(impatient, strings.NewReader(c), len(c))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "no decoding memory") {
		t.Errorf("u-c without budget or uid: status %d %q, want 503", w.Code, w.Body.String())
	}
	if got := testutil.ToFloat64(m.Rejected.WithLabelValues("503")); got != 2 {
		t.Errorf("charter_admission_rejected_requests_total{code=\"503\"} = %v, want 2", got)
	}

	close(body.release)
	if resp := decodeResponse(t, <-answered); !resp.Allowed || resp.UID != "u-a" {
		t.Fatalf("u-a: %+v, want it decided and allowed", resp)
	}
	if got := testutil.ToFloat64(m.DecodeMemoryReserved); got != 0 {
		t.Errorf("reserved %v bytes after u-a was answered, want 0", got)
	}
	// The budget is free again: a review with a long deadline gets it.
	patient := NewHandler(HandlerOptions{Source: Fixed(d), Timeout: time.Minute, DecodeBudget: budget, Logger: quiet})
	later := budgetReview("u-later", 10)
	if resp := decodeResponse(t, postSized(patient, strings.NewReader(later), len(later))); !resp.Allowed {
		t.Errorf("u-later after the budget was freed: %+v", resp)
	}
	if !decided["u-a"] || !decided["u-later"] || decided["u-b"] || decided["u-c"] {
		t.Errorf("decided %v, want u-a and u-later only", decided)
	}
}

// TestDecodeBudgetLargerThanBudget: a review that costs more than the whole
// budget is decided once it is alone, whether its length is declared or not.
func TestDecodeBudgetLargerThanBudget(t *testing.T) {
	h := NewHandler(HandlerOptions{Source: Fixed(fakeDecider{func(context.Context, any) (engine.Decision, error) {
		return engine.Decision{Allowed: true}, nil
	}}), Timeout: time.Minute, DecodeBudget: NewDecodeBudget(1024), Logger: quiet})
	body := budgetReview("u-big", 64<<10)
	for _, size := range []int{len(body), -1} {
		if resp := decodeResponse(t, postSized(h, strings.NewReader(body), size)); !resp.Allowed {
			t.Errorf("Content-Length %d: %+v", size, resp)
		}
	}
}

// TestDecodeCostBoundsMemory: DecodeCost is at least what the decoded
// review holds, for the costliest shapes of JSON (the measurements that set
// DecodeBytesPerValue and DecodeBytesPerBodyByte, at a tenth of the value cap).
func TestDecodeCostBoundsMemory(t *testing.T) {
	const n = MaxReviewValues / 10
	list := func(elem string) string {
		return `{"x":[` + strings.TrimSuffix(strings.Repeat(elem+",", n), ",") + `]}`
	}
	keys := func(value string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":%s`, i, value)
		}
		return b.String() + "}"
	}
	for _, tc := range []struct{ name, object string }{
		{"numbers", list("0")},
		{"empty objects", list("{}")},
		{"empty arrays", list("[]")},
		{"short strings", list(`"a"`)},
		{"object keys", keys("0")},
		{"object keys of objects", keys("{}")},
		{"one long string", `{"x":"` + strings.Repeat("a", 4<<20) + `"}`},
		{"one escaped string", `{"x":"` + strings.Repeat(`\u003c`, 1<<20) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":` +
				tc.object + `}}`)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rv, err := DecodeReview(body)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			runtime.KeepAlive(rv)
			runtime.KeepAlive(body)
			t.Logf("%d-byte body holds %d bytes decoded, charged %d", len(body), held, DecodeCost(int64(len(body))))
			if held > DecodeCost(int64(len(body))) {
				t.Errorf("%d-byte body holds %d bytes decoded, more than DecodeCost %d", len(body), held, DecodeCost(int64(len(body))))
			}
		})
	}
}

// TestDefaultDecodeMemoryFitsThePod: the default budget is sized from the
// deployed memory limit, and the largest review fits in it alone.
func TestDefaultDecodeMemoryFitsThePod(t *testing.T) {
	raw, err := os.ReadFile("../deploy/webhook/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var dep appsv1.Deployment
	if err := yaml.UnmarshalStrict(raw, &dep); err != nil {
		t.Fatal(err)
	}
	limit := dep.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().Value()
	if limit != PodMemoryLimit {
		t.Errorf("deploy/webhook/deployment.yaml limits memory to %d bytes; PodMemoryLimit (which sizes DefaultDecodeMemory) is %d", limit, PodMemoryLimit)
	}
	if DecodeCost(MaxBodyBytes) > DefaultDecodeMemory {
		t.Errorf("the largest review costs %d, more than the default budget %d", DecodeCost(MaxBodyBytes), DefaultDecodeMemory)
	}
}

// inFlight is a review posted in the background whose body is held at its
// head (budgetHead bytes) until it has its reservation, then at the rest
// until released.
type inFlight struct {
	uid      string
	body     *gatedBody
	answered chan *httptest.ResponseRecorder
}

func startReview(h http.Handler, uid string, pad int) *inFlight {
	review := budgetReview(uid, pad)
	f := &inFlight{uid: uid, answered: make(chan *httptest.ResponseRecorder, 1), body: &gatedBody{
		head: review[:budgetHead], rest: review[budgetHead:],
		served: make(chan struct{}), reached: make(chan struct{}), release: make(chan struct{}),
	}}
	go func() { f.answered <- postSized(h, f.body, len(review)) }()
	return f
}

// holds waits until f has its reservation (it asked for the body past its head).
func (f *inFlight) holds(t *testing.T) {
	t.Helper()
	select {
	case <-f.body.reached:
	case <-time.After(time.Minute):
		t.Fatalf("%s never got its decoding budget", f.uid)
	}
}

// waits checks that f read its head and did not get its reservation: it
// does not read past the head for a while. (This can only pass wrongly on a
// very slow machine, never fail wrongly.)
func (f *inFlight) waits(t *testing.T) {
	t.Helper()
	<-f.body.served
	select {
	case <-f.body.reached:
		t.Fatalf("%s got its decoding budget, want it waiting", f.uid)
	case <-time.After(100 * time.Millisecond):
	}
}

// finish lets f's body end and checks it was decided and allowed.
func (f *inFlight) finish(t *testing.T) {
	t.Helper()
	close(f.body.release)
	if resp := decodeResponse(t, <-f.answered); !resp.Allowed || string(resp.UID) != f.uid {
		t.Fatalf("%s: %+v, want it decided and allowed", f.uid, resp)
	}
}

// TestDecodeBudgetWaitsInTurn: reviews that fit in the budget together are
// read at once; one that does not fit waits for the memory, in arrival
// order; one that costs more than the whole budget waits until it is alone,
// runs alone, and the reviews that arrive after it wait behind it instead
// of passing it. The reserved gauge follows each step and ends at 0.
func TestDecodeBudgetWaitsInTurn(t *testing.T) {
	const small, big = 8 << 10, 64 << 10
	smallCost := DecodeCost(int64(len(budgetReview("s-1", small))))
	budget := NewDecodeBudget(2*smallCost + smallCost/2)
	m := NewMetrics(nil)
	h := NewHandler(HandlerOptions{Source: Fixed(fakeDecider{func(context.Context, any) (engine.Decision, error) {
		return engine.Decision{Allowed: true}, nil
	}}), Timeout: time.Minute, DecodeBudget: budget, Metrics: m, Logger: quiet})
	reserved := func(want int64, when string) {
		t.Helper()
		if got := testutil.ToFloat64(m.DecodeMemoryReserved); got != float64(want) {
			t.Fatalf("%s: reserved %v bytes, want %d", when, got, want)
		}
	}

	// Two small reviews fit together; a third waits for one of them.
	s1, s2 := startReview(h, "s-1", small), startReview(h, "s-2", small)
	s1.holds(t)
	s2.holds(t)
	reserved(2*smallCost, "s-1 and s-2 in flight")
	s3 := startReview(h, "s-3", small)
	s3.waits(t)
	s1.finish(t)
	s3.holds(t)
	reserved(2*smallCost, "s-2 and s-3 in flight")

	// A review larger than the budget waits until it is alone; s-4, which
	// would fit beside s-3, arrives after it and waits behind it.
	large := startReview(h, "large", big)
	large.waits(t)
	s4 := startReview(h, "s-4", small)
	s4.waits(t)
	s2.finish(t)
	large.waits(t)
	s3.finish(t)
	large.holds(t)
	reserved(budget.Size(), "the large review alone")
	s4.waits(t)
	large.finish(t)
	s4.holds(t)
	reserved(smallCost, "s-4 alone")
	s4.finish(t)
	reserved(0, "all answered")
}
