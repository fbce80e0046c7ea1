package agent

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/charter-dev/charter/overrides"
)

// breakGlass is the agent's override state: the last verified overrides
// read, the exemptions in the kernel and when they next change.
type breakGlass struct {
	mu       sync.Mutex
	verified []*overrides.Verified
	grants   []Grant
	next     time.Time
	ignored  string // the last ignored set logged, so each is logged once
	// rearm tells Run's loop that next changed (a Reload from elsewhere).
	rearm chan struct{}
}

// refreshExemptions recomputes the exemptions and writes them to the
// kernel. reread re-reads and re-verifies the overrides directory; without
// it (the expiry timer) the last verified set is judged at the current
// time. A directory or charter that cannot be read keeps the last verified
// set, whose overrides still expire on time.
func (a *Agent) refreshExemptions(reread bool) error {
	if a.opts.OverridesDir == "" {
		return nil
	}
	now := time.Now()
	g := &a.glass
	g.mu.Lock()
	defer g.mu.Unlock()
	var readErr error
	if reread {
		if set, err := a.readOverrides(now); err != nil {
			readErr = err
			a.metrics.errors.WithLabelValues("overrides").Inc()
		} else {
			g.verified = set
		}
	}
	a.mu.RLock()
	rules := a.rules
	a.mu.RUnlock()
	dirs, _ := a.scopeDirs()
	pods, err := FindPodCgroups(dirs, a.opts.Pods)
	if err != nil {
		// Without pod names no override can be matched: exempt nothing.
		a.metrics.errors.WithLabelValues("pods").Inc()
		readErr = errors.Join(readErr, err)
		pods = nil
	}
	grants, next := Exemptions(rules, g.verified, pods, now)
	list := make([]Exemption, len(grants))
	for i, gr := range grants {
		list[i] = gr.Exemption
	}
	if err := a.kernel.SetExemptions(list); err != nil {
		return errors.Join(readErr, err)
	}
	a.logGrantChanges(g.grants, grants)
	if !next.Equal(g.next) && g.rearm != nil {
		select {
		case g.rearm <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	g.grants, g.next = grants, next
	a.metrics.exemptions.Set(float64(len(grants)))
	return readErr
}

// readOverrides verifies the overrides directory against the council of
// the charter in force; each ignored override is logged once and counted.
func (a *Agent) readOverrides(now time.Time) ([]*overrides.Verified, error) {
	info, err := a.opts.Source.(InfoSource).Info()
	if err != nil {
		return nil, fmt.Errorf("charter for overrides: %w", err)
	}
	v, err := overrides.NewVerifier(info)
	if err != nil {
		return nil, fmt.Errorf("council: %w", err)
	}
	set, ignored, err := LoadOverrides(a.opts.OverridesDir, v, now)
	if err != nil {
		return nil, err
	}
	var key []string
	for _, ig := range ignored {
		key = append(key, ig.File+": "+ig.Err.Error())
	}
	if k := strings.Join(key, "\n"); k != a.glass.ignored {
		a.glass.ignored = k
		for _, ig := range ignored {
			check := string(ig.Check)
			if check == "" {
				check = "unreadable"
			}
			a.metrics.overridesIgnored.WithLabelValues(check).Inc()
			a.log.Warn("override ignored", "file", ig.File, "check", check, "err", ig.Err)
		}
	}
	return set, nil
}

func (a *Agent) logGrantChanges(old, cur []Grant) {
	key := func(g Grant) string { return fmt.Sprintf("%d/%d/%s", g.CgroupID, g.Rule, g.Override) }
	had := map[string]bool{}
	for _, g := range old {
		had[key(g)] = true
	}
	has := map[string]bool{}
	for _, g := range cur {
		has[key(g)] = true
		if !had[key(g)] {
			a.log.Info("break-glass exemption started", "override", g.Override, "article", g.Article,
				"namespace", g.Pod.Namespace, "pod", g.Pod.Name, "uid", g.Pod.UID, "expires", g.Expires.UTC())
		}
	}
	for _, g := range old {
		if !has[key(g)] {
			a.log.Info("break-glass exemption ended: the rule is enforced again", "override", g.Override, "article", g.Article,
				"namespace", g.Pod.Namespace, "pod", g.Pod.Name, "uid", g.Pod.UID)
		}
	}
}

// nextExemptionChange is when an override next starts or expires.
func (a *Agent) nextExemptionChange() time.Time {
	a.glass.mu.Lock()
	defer a.glass.mu.Unlock()
	return a.glass.next
}

// Exemptions are the break-glass exemptions in force, for tests and status.
func (a *Agent) Exemptions() []Grant {
	a.glass.mu.Lock()
	defer a.glass.mu.Unlock()
	return slices.Clone(a.glass.grants)
}

// exemptingOverride names the override that exempts the cgroup at path
// (or the pod above it) from rule, for the audit record.
func (a *Agent) exemptingOverride(path string, rule uint32) string {
	a.glass.mu.Lock()
	defer a.glass.mu.Unlock()
	for _, g := range a.glass.grants {
		if g.Rule == rule && (path == g.CgroupPath || strings.HasPrefix(path, g.CgroupPath+"/")) {
			return g.Override
		}
	}
	return ""
}
