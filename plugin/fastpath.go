package plugin

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/charter-dev/charter/engine"
	"github.com/google/uuid"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/logging"
	"github.com/open-policy-agent/opa/v1/plugins/logs"
	"github.com/open-policy-agent/opa/v1/server"
)

// decisionRoute is the one route the native path answers.
const decisionRoute = "/v1/data/" + DecisionPath

// middleware answers POST /v1/data/charter/decision with the native engine
// when that gives exactly OPA's answer: a fully declarative bundle in force,
// a plain JSON body {"input": ...} and no query parameter but pretty. Every
// other request, and any it cannot decide, goes on to OPA's own handler.
func (p *Plugin) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != decisionRoute {
			next.ServeHTTP(w, r)
			return
		}
		a := p.current()
		pretty, plain := plainRequest(r)
		if a == nil || !a.native || !plain {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			next.ServeHTTP(w, r) // OPA reports the body it cannot read
			return
		}
		input, ok := parseInput(body)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		v, err := ast.InterfaceToValue(input)
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		// The verified overrides in force with this bundle: the set the
		// plugin wrote at data.charter_overrides, where OPA's evaluation reads it.
		d, err := a.engine.DecideValueWith(r.Context(), v, a.overridesOf())
		if err != nil {
			next.ServeHTTP(w, r) // OPA's evaluation gives OPA's error
			return
		}
		now := time.Now()
		lp := logs.Lookup(p.m)
		var decisionID string
		if lp != nil {
			decisionID = uuid.NewString()
		}
		if err := p.auditNative(r, lp, a, input, v, d, now, decisionID); err != nil {
			p.log.Error("audit a decision: not served", "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "internal_error", "message": "charter audit log: " + err.Error()}, pretty)
			return
		}
		writeJSON(w, http.StatusOK, response{DecisionID: decisionID, Result: wireDecision(d)}, pretty)
	})
}

// auditNative records a natively served decision: directly, and through
// OPA's decision-log plugin when one is configured (which hands it back to
// Log when it routes to this plugin, so it is recorded once).
func (p *Plugin) auditNative(r *http.Request, lp *logs.Plugin, a *active, input any, v ast.Value, d engine.Decision, now time.Time, decisionID string) error {
	if lp == nil || !p.routed || p.alone {
		if err := p.sink.Append(r.Context(), record(input, d, a.bundle, now, decisionID, r.RemoteAddr)); err != nil {
			return err
		}
	}
	if lp == nil || p.alone {
		return nil
	}
	var result any = wireDecision(d)
	return lp.Log(r.Context(), &server.Info{
		DecisionID: decisionID, RemoteAddr: r.RemoteAddr, Path: DecisionPath, Timestamp: now,
		Input: &input, InputAST: v, Results: &result, Revision: a.bundle.Revision,
		Bundles:            map[string]server.BundleInfo{Name: {Revision: a.bundle.Revision}},
		HTTPRequestContext: httpContext(r),
	})
}

// plainRequest reports whether OPA's handler would read the request as
// plain JSON and evaluate it with nothing to explain, instrument or trace;
// pretty is the one parameter the native path honours.
func plainRequest(r *http.Request) (pretty, plain bool) {
	if r.Header.Get("Content-Encoding") != "" {
		return false, false
	}
	switch r.Header.Get("Content-Type") {
	case "", "application/json", "application/json; charset=utf-8":
	default:
		return false, false
	}
	q := r.URL.Query()
	for k, vs := range q {
		if k != "pretty" || len(vs) != 1 {
			return false, false
		}
		switch vs[0] {
		case "", "true":
			pretty = true
		case "false":
		default:
			return false, false
		}
	}
	return pretty, true
}

// parseInput reads {"input": X}, the body OPA's handler evaluates; any other
// body (no input, further keys, trailing data) is left to OPA.
func parseInput(body []byte) (any, bool) {
	var req struct {
		Input *any `json:"input"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Input == nil || dec.More() {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return *req.Input, true
}

// response is OPA's answer to POST /v1/data/{path}.
type response struct {
	DecisionID string       `json:"decision_id,omitempty"`
	Result     wireDecision `json:"result"`
}

// wireDecision is data.charter.decision exactly as the compiled Rego writes
// it: every finding carries all six keys, also an empty title or path.
type wireDecision engine.Decision

type wireFinding struct {
	Article  string `json:"article"`
	Title    string `json:"title"`
	Action   string `json:"action"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Path     string `json:"path"`
	Override string `json:"override,omitempty"` // only on overridden denials, as the Rego's object.union adds it
}

func (d wireDecision) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Allowed    bool          `json:"allowed"`
		Audits     []wireFinding `json:"audits"`
		Overridden []wireFinding `json:"overridden"`
		Violations []wireFinding `json:"violations"`
		Warnings   []wireFinding `json:"warnings"`
	}{d.Allowed, wireFindings(d.Audits), wireFindings(d.Overridden), wireFindings(d.Violations), wireFindings(d.Warnings)})
}

func wireFindings(fs []engine.Finding) []wireFinding {
	out := make([]wireFinding, len(fs))
	for i, f := range fs {
		out[i] = wireFinding(f)
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any, pretty bool) {
	var out []byte
	var err error
	if pretty {
		out, err = json.MarshalIndent(v, "", "  ")
	} else {
		out, err = json.Marshal(v)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(out, '\n'))
}

func httpContext(r *http.Request) logging.HTTPRequestContext {
	return logging.HTTPRequestContext{Header: r.Header.Clone()}
}
