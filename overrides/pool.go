package overrides

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Ignored is an override that does not count, and why.
type Ignored struct {
	Source string
	ID     string
	Check  Check // CheckMalformed for a file that could not be read
	Err    error
}

// Evaluation is the outcome of verifying every document of a pool against
// one charter at one time: the verified set in force and the ignored ones.
type Evaluation struct {
	Set     Set
	Ignored []Ignored
	// Until is when the outcome may next change by the clock alone (an
	// override becoming valid or expiring); zero when never.
	Until    time.Time
	verifier *Verifier
	gen      uint64
}

// Evaluate verifies entries against v at now.
func Evaluate(v *Verifier, entries []Entry, now time.Time) *Evaluation {
	ev := &Evaluation{verifier: v}
	var verified []*Verified
	sources := map[*Verified]string{}
	for _, e := range entries {
		if e.Err != nil || e.Doc == nil {
			err := e.Err
			if err == nil {
				err = errors.New("no document")
			}
			ev.Ignored = append(ev.Ignored, Ignored{Source: e.Source, Check: CheckMalformed, Err: err})
			continue
		}
		d := e.Doc
		ev.soonest(d.Spec.NotBefore, now)
		ev.soonest(d.Spec.Expires, now)
		ok, err := v.Verify(d, now)
		if err != nil {
			check := Check("error")
			var f *Failure
			if errors.As(err, &f) {
				check = f.Check
			}
			ev.Ignored = append(ev.Ignored, Ignored{Source: e.Source, ID: d.ID(), Check: check, Err: err})
			continue
		}
		verified = append(verified, ok)
		sources[ok] = e.Source
	}
	set, dropped := NewSet(verified)
	ev.Set = set
	for _, d := range dropped {
		ev.Ignored = append(ev.Ignored, Ignored{Source: sources[d.Verified], ID: d.ID, Check: d.Check,
			Err: &Failure{ID: d.ID, Check: d.Check, Reason: d.Reason}})
	}
	slices.SortFunc(ev.Ignored, func(a, b Ignored) int { return strings.Compare(a.Source, b.Source) })
	return ev
}

// Checks of NewSet: between verified versions of one id.
const (
	// CheckConflict: verified versions of one id with the same signed
	// notBefore say different things; none of them counts.
	CheckConflict Check = "conflict"
	// CheckSuperseded: a verified version of the same id with a later
	// signed notBefore counts instead.
	CheckSuperseded Check = "superseded"
)

// Sentinels of NewSet's checks, for errors.Is.
var (
	ErrConflict   = errors.New("override conflicts with another version of its id")
	ErrSuperseded = errors.New("override is superseded by a later version of its id")
)

func init() {
	sentinels[CheckConflict], sentinels[CheckSuperseded] = ErrConflict, ErrSuperseded
}

// soonest keeps the earliest instant after now at which an outcome flips.
func (ev *Evaluation) soonest(t, now time.Time) {
	if t.After(now) && (ev.Until.IsZero() || t.Before(ev.Until)) {
		ev.Until = t
	}
}

// IgnoredByCheck counts the ignored overrides by failed check.
func (ev *Evaluation) IgnoredByCheck() map[Check]int {
	out := map[Check]int{}
	for _, i := range ev.Ignored {
		out[i.Check]++
	}
	return out
}

// Pool holds the override documents of an enforcement point, from any
// number of origins (a directory, the cluster's Override objects), and
// verifies them against the charter in force, again whenever a document,
// the charter or the clock may change the outcome.
//
// Adding and removing documents never waits for a verification: the
// documents are copied under a short lock and verified outside it, so a
// watch putting documents in while another goroutine verifies the pool is
// not held up by the signatures being checked.
type Pool struct {
	mu      sync.Mutex                  // origins, gen
	origins map[string]map[string]Entry // origin -> key -> entry
	gen     uint64
	changed chan struct{} // one pending notice of a change (Changed)

	evalMu sync.Mutex // one evaluation at a time: last, OnEvaluate
	last   *Evaluation
	// OnEvaluate, when set, sees each new evaluation (for logs and metrics).
	OnEvaluate func(*Evaluation)
}

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{origins: map[string]map[string]Entry{}, changed: make(chan struct{}, 1)}
}

// Changed receives once after any number of changes of the documents
// (Replace, Put, Delete) since it last received: the goroutine that
// evaluates the pool waits on it.
func (p *Pool) Changed() <-chan struct{} { return p.changed }

// touch records a change; p.mu is held.
func (p *Pool) touch() {
	p.gen++
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// Replace sets every entry of one origin (a directory read again).
func (p *Pool) Replace(origin string, entries []Entry) {
	m := make(map[string]Entry, len(entries))
	for _, e := range entries {
		m[e.Source] = e
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.origins[origin] = m
	p.touch()
}

// Put sets one entry of an origin (an object added or changed).
func (p *Pool) Put(origin string, e Entry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.origins[origin] == nil {
		p.origins[origin] = map[string]Entry{}
	}
	p.origins[origin][e.Source] = e
	p.touch()
}

// Delete removes one entry of an origin (an object deleted).
func (p *Pool) Delete(origin, source string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.origins[origin], source)
	p.touch()
}

// Evaluate verifies the pool's documents against v at now, reusing the last
// evaluation while neither the documents, nor v, nor the clock (past
// Evaluation.Until) changed it. Evaluations are made one at a time;
// documents may be added meanwhile (they count from the next one).
func (p *Pool) Evaluate(v *Verifier, now time.Time) *Evaluation {
	p.evalMu.Lock()
	defer p.evalMu.Unlock()
	p.mu.Lock()
	gen := p.gen
	if l := p.last; l != nil && l.verifier == v && l.gen == gen && (l.Until.IsZero() || now.Before(l.Until)) {
		p.mu.Unlock()
		return l
	}
	var entries []Entry
	for _, origin := range slices.Sorted(maps.Keys(p.origins)) {
		for _, key := range slices.Sorted(maps.Keys(p.origins[origin])) {
			entries = append(entries, p.origins[origin][key])
		}
	}
	p.mu.Unlock()
	ev := Evaluate(v, entries, now)
	ev.gen = gen
	p.last = ev
	if p.OnEvaluate != nil {
		p.OnEvaluate(ev)
	}
	return ev
}
