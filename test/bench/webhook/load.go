package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// result is one load run against one target.
type result struct {
	requests int
	errors   int
	elapsed  time.Duration
	lat      []time.Duration // sorted
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// add is the result of r and o run one after the other.
func (r result) add(o result) result {
	lat := slices.Concat(r.lat, o.lat)
	slices.Sort(lat)
	return result{requests: r.requests + o.requests, errors: r.errors + o.errors, elapsed: r.elapsed + o.elapsed, lat: lat}
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

// send posts one body and checks the answer is a decision.
func send(c *http.Client, t *target, body []byte) (allowed bool, err error) {
	resp, err := c.Post(t.url, "application/json", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("%s: status %d: %s", t.name, resp.StatusCode, data)
	}
	return t.allowed(data)
}

// closedLoop keeps `workers` requests in flight for d and measures throughput.
func closedLoop(c *http.Client, t *target, bodies [][]byte, workers int, d time.Duration) result {
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var lat []time.Duration
			e := 0
			for i := w; time.Now().Before(deadline); i += workers {
				t0 := time.Now()
				if _, err := send(c, t, bodies[i%len(bodies)]); err != nil {
					e++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			errs += e
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all)
	return result{requests: len(all), errors: errs, elapsed: time.Since(start), lat: all}
}

// fixedRate sends rate requests per second for d, open loop: latency counts
// from when a request was due, so a stalled server cannot hide its queue.
func fixedRate(c *http.Client, t *target, bodies [][]byte, rate int, d time.Duration) result {
	type slot struct {
		at time.Time
		k  int
	}
	due := make(chan slot, rate)
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for s := range due {
				_, err := send(c, t, bodies[s.k%len(bodies)])
				lat := time.Since(s.at)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					all = append(all, lat)
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	for k := range n {
		at := start.Add(time.Duration(k) * interval)
		time.Sleep(time.Until(at))
		due <- slot{at, k}
	}
	close(due)
	wg.Wait()
	slices.Sort(all)
	return result{requests: len(all), errors: errs, elapsed: time.Since(start), lat: all}
}

// decisions counts the corpus's denials, to show the three agree on what they decide.
func decisions(c *http.Client, t *target, bodies [][]byte) (denied int, err error) {
	for _, b := range bodies {
		ok, err := send(c, t, b)
		if err != nil {
			return 0, err
		}
		if !ok {
			denied++
		}
	}
	return denied, nil
}

func reviewAllowed(data []byte) (bool, error) {
	var r struct {
		Response *struct{ Allowed bool } `json:"response"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.Response == nil {
		return false, fmt.Errorf("not an AdmissionReview response: %.200s", data)
	}
	return r.Response.Allowed, nil
}

func opaAllowed(data []byte) (bool, error) {
	var r struct {
		Result *struct{ Allowed bool } `json:"result"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.Result == nil {
		return false, fmt.Errorf("no decision from opa: %.200s", data)
	}
	return r.Result.Allowed, nil
}
