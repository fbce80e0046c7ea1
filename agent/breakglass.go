package agent

import (
	"slices"
	"time"

	"github.com/charter-dev/charter/overrides"
	"github.com/gobwas/glob"
)

// PodInfo is what the agent knows of a pod on its node. Labels is nil when
// the pod directory does not know them: an override with a label selector
// then never matches the pod (fail closed).
type PodInfo struct {
	Namespace string
	Name      string
	UID       string
	Labels    map[string]string
}

// PodCgroup is a pod's cgroup in scope (the pod level, parent of its
// containers' cgroups), with the pod it belongs to.
type PodCgroup struct {
	ID   uint64
	Path string
	Pod  PodInfo
}

// Grant is one break-glass exemption and why: the override, the article
// whose rule it lifts, and the pod.
type Grant struct {
	Exemption
	CgroupPath string // the pod's cgroup directory
	Override   string
	Article    string
	Pod        PodInfo
	Expires    time.Time
}

// Exemptions decides which pods' cgroups the verified overrides exempt from
// which rules at now: an override active at now, whose scope is kind Pod,
// its namespace, a name matching its glob and (if it has a selector) every
// label, exempts that pod's cgroup from the rules of its articles that have
// a runtime part. next is the next time the answer changes by the clock
// alone (an override starting or expiring); zero when none will.
func Exemptions(rules []Rule, set []*overrides.Verified, pods []PodCgroup, now time.Time) (grants []Grant, next time.Time) {
	ruleOf := map[string]uint32{}
	for i, r := range rules {
		if _, ok := ruleOf[r.Article]; !ok {
			ruleOf[r.Article] = uint32(i + 1)
		}
	}
	later := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, v := range set {
		start, end := time.Unix(0, v.NotBeforeNs), time.Unix(0, v.ExpiresNs)
		later(start)
		later(end)
		if !v.ActiveAt(now) {
			continue
		}
		for _, p := range pods {
			if !ScopeMatchesPod(v.Scope, p.Pod) {
				continue
			}
			for _, article := range v.Articles {
				rule, ok := ruleOf[article]
				if !ok {
					continue // an admission-only article: nothing to lift at runtime
				}
				grants = append(grants, Grant{
					Exemption: Exemption{CgroupID: p.ID, Rule: rule}, CgroupPath: p.Path,
					Override: v.ID, Article: article, Pod: p.Pod, Expires: end,
				})
			}
		}
	}
	slices.SortStableFunc(grants, func(a, b Grant) int {
		if a.CgroupID != b.CgroupID {
			return cmpUint(a.CgroupID, b.CgroupID)
		}
		return cmpUint(uint64(a.Rule), uint64(b.Rule))
	})
	return grants, next
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ScopeMatchesPod reports whether an override scope covers a running pod:
// kind Pod (a scope naming a workload kind covers that object at admission,
// not its pods at runtime), the namespace, the name glob as OPA's
// glob.match reads it with no delimiters given ('.' delimits, so * does not
// cross a dot), and every selector label (unknown labels never match).
func ScopeMatchesPod(s overrides.Scope, p PodInfo) bool {
	if s.Kind != "Pod" || s.Namespace != p.Namespace || p.Name == "" {
		return false
	}
	g, err := glob.Compile(s.Name, '.')
	if err != nil || !g.Match(p.Name) {
		return false
	}
	if s.LabelSelector != nil {
		if p.Labels == nil {
			return false
		}
		for k, v := range s.LabelSelector.MatchLabels {
			if got, ok := p.Labels[k]; !ok || got != v {
				return false
			}
		}
	}
	return true
}
