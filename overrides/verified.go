package overrides

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charter-dev/charter/compiler"
)

// DataRoot is where verified overrides sit in OPA's data document
// (data.charter_overrides, an object keyed by override id). It is outside
// the bundle's root (charter), so an OPA that loads the signed bundle can
// hold overrides in its store without the bundle owning or erasing them.
// The compiled data.charter.decision reads it; nothing but verified
// overrides may be written there.
const DataRoot = compiler.OverridesRoot

// Verified is an override whose signatures, charter, scope, lifetime and
// revocation were checked. It is the versioned wire format the decision
// reads (data.charter_overrides[id]); the time window is checked again at
// each decision, against the decision's clock.
type Verified struct {
	ID          string   `json:"id"`
	Charter     string   `json:"charter"`
	Articles    []string `json:"articles"`
	Scope       Scope    `json:"scope"`
	Reason      string   `json:"reason"`
	Requester   string   `json:"requester"`
	NotBeforeNs int64    `json:"notBeforeNs"` // Unix nanoseconds: valid from
	ExpiresNs   int64    `json:"expiresNs"`   // Unix nanoseconds: valid until, exclusive
	Approvals   []string `json:"approvals"`   // ids of the council keys that approved
}

func newVerified(d *Document, approvals []string) *Verified {
	return &Verified{
		ID: d.ID(), Charter: d.Spec.Charter, Articles: slices.Clone(d.Spec.Articles), Scope: d.Spec.Scope,
		Reason: d.Spec.Reason, Requester: d.Spec.Requester,
		NotBeforeNs: d.Spec.NotBefore.UnixNano(), ExpiresNs: d.Spec.Expires.UnixNano(),
		Approvals: approvals,
	}
}

// ActiveAt reports whether now is inside the override's time window.
func (v *Verified) ActiveAt(now time.Time) bool {
	n := now.UnixNano()
	return v.NotBeforeNs <= n && n < v.ExpiresNs
}

// Set is the verified overrides in force, sorted by id, one per id.
type Set []*Verified

// Dropped is a verified override that does not count beside another
// version of its id, and why (CheckSuperseded or CheckConflict).
type Dropped struct {
	*Verified
	Check  Check
	Reason string
}

// NewSet keeps one override per id, sorted by id. The pool may hold several
// council-signed versions of one id (a directory file and an Override
// object, or a version re-signed later): the one with the latest signed
// notBefore counts and the others are superseded, so replaying an older
// version beside the current one changes nothing. Versions that share the
// latest notBefore but say something else conflict: neither can be told to
// be the one meant, so no version of that id counts. Identical copies count
// once. Only signed fields decide: never a file name, an object's
// resourceVersion or an arrival order.
func NewSet(list []*Verified) (Set, []Dropped) {
	byID := map[string][]*Verified{}
	for _, v := range list {
		byID[v.ID] = append(byID[v.ID], v)
	}
	var out Set
	var dropped []Dropped
	for _, vs := range byID {
		latest := slices.MaxFunc(vs, func(a, b *Verified) int { return cmp.Compare(a.NotBeforeNs, b.NotBeforeNs) })
		conflict := slices.ContainsFunc(vs, func(o *Verified) bool { return o.NotBeforeNs == latest.NotBeforeNs && !same(o, latest) })
		for _, v := range vs {
			switch {
			case v.NotBeforeNs < latest.NotBeforeNs:
				dropped = append(dropped, Dropped{v, CheckSuperseded, fmt.Sprintf(
					"a version of this override signed with a later notBefore (%s, not %s) supersedes it",
					stamp(time.Unix(0, latest.NotBeforeNs)), stamp(time.Unix(0, v.NotBeforeNs)))})
			case conflict:
				dropped = append(dropped, Dropped{v, CheckConflict, fmt.Sprintf(
					"another verified version of this override has the same notBefore (%s) and says something else: no version of it counts",
					stamp(time.Unix(0, v.NotBeforeNs)))})
			}
		}
		if !conflict {
			out = append(out, latest)
		}
	}
	slices.SortFunc(out, func(a, b *Verified) int { return strings.Compare(a.ID, b.ID) })
	return out, dropped
}

func same(a, b *Verified) bool {
	return a.Charter == b.Charter && slices.Equal(a.Articles, b.Articles) && a.Scope.String() == b.Scope.String() &&
		a.Reason == b.Reason && a.Requester == b.Requester && a.NotBeforeNs == b.NotBeforeNs && a.ExpiresNs == b.ExpiresNs
}

// Data is the set as data.charter_overrides: an object keyed by id.
func (s Set) Data() map[string]*Verified {
	out := make(map[string]*Verified, len(s))
	for _, v := range s {
		out[v.ID] = v
	}
	return out
}
