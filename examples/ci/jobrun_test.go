package ci

import (
	"fmt"
	"strings"
)

// Entry states: what the test did with one step (GitHub) or script line
// (GitLab).
const (
	stateRan        = "ran"         // executed verbatim by bash
	stateInstalled  = "installed"   // a go install line, provided by the test
	stateHosted     = "hosted only" // a uses: step, skipped with a reason
	stateSkipped    = "skipped"     // its condition was false
	stateNotReached = "not reached" // an earlier entry failed the job
)

// entry is one step or script line of a job and what became of it.
type entry struct {
	ID      string // job/step name, or job/section[i] for GitLab
	Command string // the shell text, or the uses: reference
	State   string
	Code    int    // exit code when it ran
	Note    string // why it was skipped, what the install provided
}

// jobRun is one job's run.
type jobRun struct {
	Job       string
	Workspace string // the job's checkout, after the job
	Entries   []entry
	FailedAt  *entry            // the entry that failed the job; nil when it succeeded
	Artifacts map[string][]byte // reports the CI system would pick up: path -> content
	Missing   []string          // reports it would look for and not find
	Log       strings.Builder
}

func (r *jobRun) add(e entry) {
	r.Entries = append(r.Entries, e)
	fmt.Fprintf(&r.Log, "--- %s [%s", e.ID, e.State)
	if e.State == stateRan {
		fmt.Fprintf(&r.Log, ", exit %d", e.Code)
	}
	if e.Note != "" {
		fmt.Fprintf(&r.Log, ": %s", e.Note)
	}
	fmt.Fprintf(&r.Log, "]\n")
}

// failed marks the entry just added as the one that failed the job.
func (r *jobRun) failed() {
	if r.FailedAt == nil {
		e := r.Entries[len(r.Entries)-1]
		r.FailedAt = &e
	}
}

// succeeded reports whether the job passed.
func (r *jobRun) succeeded() bool { return r.FailedAt == nil }

// firstLine is a command's first line, for messages.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}
