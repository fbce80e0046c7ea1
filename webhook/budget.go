package webhook

import (
	"context"
	"fmt"
	"io"
	"sync"

	"golang.org/x/sync/semaphore"
)

// What a review costs in memory once decoded, measured on the decoder
// (live heap after decoding bodies of each shape up to the body and value
// caps): a JSON value costs up to about 170 bytes as an OPA term (an entry
// of an object with a million keys, `[{},{},...]`), and a body byte up to
// about three (a long string: the decoder's buffer grows to hold the whole
// token, then the string is copied out of it).
const (
	DecodeBytesPerValue    = 200
	DecodeBytesPerBodyByte = 3
	// minValueBytes is the fewest body bytes a JSON value takes: `0,`.
	minValueBytes = 2
)

// DecodeCost is what decoding a body of n bytes may cost at most: as many
// values as fit in n bytes (up to MaxReviewValues), and each byte.
func DecodeCost(n int64) int64 {
	values := min(n/minValueBytes+1, MaxReviewValues)
	return values*DecodeBytesPerValue + n*DecodeBytesPerBodyByte
}

// The default decoding budget is sized from the deployed pod's memory.
const (
	// PodMemoryLimit is the webhook container's limits.memory in
	// deploy/webhook/deployment.yaml.
	PodMemoryLimit = 512 << 20
	// ProcessMemory is what the process needs besides decoded reviews:
	// bundle, engine, evaluations, TLS, the GC's headroom under GOMEMLIMIT.
	ProcessMemory = 192 << 20
	// DefaultDecodeMemory is the decoding budget of one webhook (320 MiB).
	// It holds the largest review (DecodeCost(MaxBodyBytes), about 300 MiB)
	// alone, or hundreds of ordinary ones (a 20 KB review is charged about
	// 2 MB) at once.
	DefaultDecodeMemory = PodMemoryLimit - ProcessMemory
)

// budgetHead is how much of a body is read before it waits for budget, so
// that a review which cannot get any is denied with its uid (the apiserver
// writes request.uid within the first few hundred bytes). It costs at most
// DecodeCost(budgetHead), about 400 KB, per request.
const budgetHead = 4 << 10

// DecodeBudget bounds the memory that the reviews being decoded and decided
// hold at once, across concurrent requests: each request reserves
// DecodeCost of its body (its Content-Length; the body limit when it has
// none) before reading past its first budgetHead bytes, and holds it until
// it is answered. A review that costs more than the whole budget waits
// until it is alone and then runs. Requests wait in arrival order, each at
// most until its deadline.
type DecodeBudget struct {
	size int64
	sem  *semaphore.Weighted
}

// NewDecodeBudget returns a budget of size bytes (DefaultDecodeMemory when
// size is not positive).
func NewDecodeBudget(size int64) *DecodeBudget {
	if size <= 0 {
		size = DefaultDecodeMemory
	}
	return &DecodeBudget{size: size, sem: semaphore.NewWeighted(size)}
}

// Size is the budget in bytes.
func (b *DecodeBudget) Size() int64 { return b.size }

// body wraps a request body that reserves cost (clamped to the budget)
// when it is read past budgetHead, or at its end if it is shorter. Release
// gives the reservation back. m.DecodeMemoryReserved follows it.
func (b *DecodeBudget) body(ctx context.Context, r io.ReadCloser, cost int64, m *Metrics) *budgetBody {
	return &budgetBody{ReadCloser: r, ctx: ctx, budget: b, cost: min(cost, b.size), head: budgetHead, metrics: m}
}

type budgetBody struct {
	io.ReadCloser
	ctx     context.Context
	budget  *DecodeBudget
	cost    int64
	head    int64 // bytes still readable before the reservation
	metrics *Metrics

	mu       sync.Mutex
	held     bool
	refused  error
	released bool
}

func (b *budgetBody) Read(p []byte) (int, error) {
	if b.head > 0 {
		if int64(len(p)) > b.head {
			p = p[:b.head]
		}
		n, err := b.ReadCloser.Read(p)
		b.head -= int64(n)
		if err == io.EOF {
			// A body shorter than the head: reserve before its end is seen,
			// so it is charged while it is decided.
			if rerr := b.reserve(); rerr != nil {
				return n, rerr
			}
		}
		return n, err
	}
	if err := b.reserve(); err != nil {
		return 0, err
	}
	return b.ReadCloser.Read(p)
}

// reserve takes the body's cost from the budget, waiting until the
// request's deadline at most.
func (b *budgetBody) reserve() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.held:
		return nil
	case b.refused != nil:
		return b.refused
	case b.released:
		return errBudgetReleased
	}
	if err := b.budget.sem.Acquire(b.ctx, b.cost); err != nil {
		b.refused = &noBudgetError{cost: b.cost, size: b.budget.size, err: err}
		return b.refused
	}
	b.held = true
	b.metrics.DecodeMemoryReserved.Add(float64(b.cost))
	return nil
}

// Release gives the reservation back (once; later reads fail).
func (b *budgetBody) Release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.released = true
	if !b.held {
		return
	}
	b.held = false
	b.budget.sem.Release(b.cost)
	b.metrics.DecodeMemoryReserved.Sub(float64(b.cost))
}

var errBudgetReleased = fmt.Errorf("request body read after its answer")

// noBudgetError is a review that could not reserve its decoding cost
// within its deadline.
type noBudgetError struct {
	cost, size int64
	err        error
}

func (e *noBudgetError) Error() string {
	return fmt.Sprintf("no decoding memory for this review within its deadline (it needs %d of the %d bytes budgeted for reviews in flight: %v)",
		e.cost, e.size, e.err)
}

func (e *noBudgetError) Unwrap() error { return e.err }
