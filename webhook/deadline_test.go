package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charter-dev/charter/engine"
	admissionv1 "k8s.io/api/admission/v1"
)

// uidFirst is the head of a review as the apiserver writes it: request.uid
// comes first (admission/v1 field order).
const uidFirst = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-slow",` +
	`"operation":"CREATE","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},` +
	`"namespace":"default","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"x":"`

const tail = `"}}}`

// trickle serves head, then one space of padding per read (each read
// waiting a millisecond) n times, then tail: a body that takes at least n
// milliseconds to arrive. It notes when it was first read.
type trickle struct {
	head, tail string
	n          int
	first      time.Time
	sent       int
}

func (t *trickle) Read(p []byte) (int, error) {
	if t.first.IsZero() {
		t.first = time.Now()
	}
	switch {
	case t.head != "":
		n := copy(p, t.head)
		t.head = t.head[n:]
		return n, nil
	case t.sent < t.n:
		time.Sleep(time.Millisecond)
		t.sent++
		return copy(p, " "), nil
	case t.tail != "":
		n := copy(p, t.tail)
		t.tail = t.tail[n:]
		return n, nil
	}
	return 0, io.EOF
}

func postReader(h http.Handler, body io.Reader) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/validate", body)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestSlowBodyDeniedAtDeadline: a body that takes longer than the deadline
// to arrive is not decided after it; it is denied at the deadline with its
// uid (fail-open or not: it was never read), or refused with 408 when its
// uid was not read yet.
func TestSlowBodyDeniedAtDeadline(t *testing.T) {
	decided := fakeDecider{func(context.Context, any) (engine.Decision, error) {
		t.Error("a review not read within the deadline reached the decider")
		return engine.Decision{Allowed: true}, nil
	}}
	const slow = 5000 // reads of at least 1 ms each: far past the 30ms deadline
	t.Run("uid read", func(t *testing.T) {
		m := NewMetrics(nil)
		sink := &memorySink{}
		h := NewHandler(HandlerOptions{Source: Fixed(decided), FailOpen: true, Timeout: 30 * time.Millisecond, Metrics: m, Audit: sink, Logger: quiet})
		body := &trickle{head: uidFirst, tail: tail, n: slow}
		resp := decodeResponse(t, postReader(h, body))
		if resp.Allowed || resp.UID != "u-slow" {
			t.Fatalf("response = %+v, want a denial for uid u-slow", resp)
		}
		for _, want := range []string{"request body not read within the 30ms deadline", "denies it (fail closed)"} {
			if !strings.Contains(resp.Result.Message, want) {
				t.Errorf("message %q does not contain %q", resp.Result.Message, want)
			}
		}
		if body.sent == slow {
			t.Errorf("the whole slow body was read (%d reads) after the deadline", body.sent)
		}
		if rec := sink.last(t); rec.Decision != "denied" || rec.UID != "u-slow" || rec.Evaluated {
			t.Errorf("audit record = %+v", rec)
		}
	})
	t.Run("uid not read", func(t *testing.T) {
		h := NewHandler(HandlerOptions{Source: Fixed(decided), FailOpen: true, Timeout: 30 * time.Millisecond, Logger: quiet})
		body := &trickle{head: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"object":{"x":"`,
			tail: `"},"uid":"u-late"}}`, n: slow}
		w := postReader(h, body)
		if w.Code != http.StatusRequestTimeout || !strings.Contains(w.Body.String(), "not read within the 30ms deadline") {
			t.Fatalf("status %d %q, want 408 naming the deadline", w.Code, w.Body.String())
		}
	})
}

// TestDecodeAndEvaluationShareDeadline: the deadline starts before the body
// is read, so time spent reading it is taken from the evaluations (both of
// an UPDATE's), not added to them.
func TestDecodeAndEvaluationShareDeadline(t *testing.T) {
	const timeout = time.Minute
	var mu sync.Mutex
	var deadlines []time.Time
	d := fakeDecider{func(ctx context.Context, _ any) (engine.Decision, error) {
		mu.Lock()
		defer mu.Unlock()
		dl, _ := ctx.Deadline()
		deadlines = append(deadlines, dl)
		return engine.Decision{Violations: []engine.Finding{{Article: "OP-001", Message: "no"}}}, nil
	}}
	h := NewHandler(HandlerOptions{Source: Fixed(d), Timeout: timeout, Logger: quiet})
	// An UPDATE of metadata only, so the old object is decided too.
	old := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"x":"` + strings.Repeat(" ", 20) + `"}`
	head := strings.Replace(uidFirst, `"operation":"CREATE"`, `"operation":"UPDATE","oldObject":`+old, 1)
	body := &trickle{head: head, tail: tail, n: 20}
	decodeResponse(t, postReader(h, body))
	if len(deadlines) != 2 || !deadlines[0].Equal(deadlines[1]) {
		t.Fatalf("evaluations ran under deadlines %v, want one shared deadline", deadlines)
	}
	// The body took at least 20 ms after its first read: a deadline set
	// after decoding would be that much later.
	if limit := body.first.Add(timeout); deadlines[0].After(limit) {
		t.Errorf("evaluation deadline %s is after first read + timeout %s: decoding did not share it",
			deadlines[0].Format(time.StampMicro), limit.Format(time.StampMicro))
	}
}

// TestStalledBodyCutAtDeadline: over a real connection, a client that
// stops sending its body mid-way is answered at the deadline (the read
// blocked in the connection is cut), with a denial for its uid.
func TestStalledBodyCutAtDeadline(t *testing.T) {
	h := NewHandler(HandlerOptions{Source: Fixed(fakeDecider{func(context.Context, any) (engine.Decision, error) {
		t.Error("a stalled review reached the decider")
		return engine.Decision{Allowed: true}, nil
	}}), Timeout: 50 * time.Millisecond, Logger: quiet})
	srv := httptest.NewServer(h)
	defer srv.Close()
	pr, pw := io.Pipe()
	go func() { _, _ = io.WriteString(pw, uidFirst) }() // then nothing
	// Without the deadline the handler would wait for the body until the
	// test ends; give up well before that so the failure is readable.
	guard := time.AfterFunc(20*time.Second, func() { _ = pw.CloseWithError(io.ErrUnexpectedEOF) })
	defer guard.Stop()
	defer pw.Close()
	resp, err := srv.Client().Post(srv.URL, "application/json", pr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ar admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&ar); err != nil || resp.StatusCode != http.StatusOK || ar.Response == nil {
		t.Fatalf("status %d, %v: want an AdmissionReview", resp.StatusCode, err)
	}
	if ar.Response.Allowed || ar.Response.UID != "u-slow" || !strings.Contains(ar.Response.Result.Message, "not read within the 50ms deadline") {
		t.Fatalf("response = %+v", ar.Response)
	}
}
