package overrides

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/charter-dev/charter/charter"
)

var (
	charterName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,62}$`)
	articleID   = charterName
	// namespace is a Kubernetes namespace name: a DNS label, no wildcard.
	namespaceName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	kindName      = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,62}$`)
	// nameGlob is an object name with * and ? wildcards. No [ ] { } \: a
	// glob that means the same to every reader (OPA's glob.match, people).
	nameGlob  = regexp.MustCompile(`^[a-z0-9.*?-]{1,253}$`)
	labelKey  = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelVal  = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
	maxText   = 1024 // reason, requester
	maxArtics = 64
)

// Check reports the first structural problem of d (a *Failure with check
// Malformed), or nil. It does not look at signatures or the council.
func (d *Document) Check() error {
	switch {
	case d.APIVersion != APIVersion:
		return malformed("apiVersion %q, want %q", d.APIVersion, APIVersion)
	case d.Kind != Kind:
		return malformed("kind %q, want %q", d.Kind, Kind)
	case !charter.ValidOverrideID(d.Metadata.Name):
		return malformed("metadata.name %q is not an override id (lower-case letters, digits, '.', '-', at most 253)", d.Metadata.Name)
	case !charterName.MatchString(d.Spec.Charter):
		return malformed("spec.charter %q is not a charter name", d.Spec.Charter)
	case len(d.Spec.Articles) == 0:
		return malformed("spec.articles is empty: name the article ids the override lifts")
	case len(d.Spec.Articles) > maxArtics:
		return malformed("spec.articles names %d articles; at most %d", len(d.Spec.Articles), maxArtics)
	}
	seen := map[string]bool{}
	for _, a := range d.Spec.Articles {
		if !articleID.MatchString(a) {
			return malformed("spec.articles: %q is not an article id", a)
		}
		if seen[a] {
			return malformed("spec.articles names %s twice", a)
		}
		seen[a] = true
	}
	if err := d.Spec.Scope.check(); err != nil {
		return err
	}
	for what, s := range map[string]string{"spec.reason": d.Spec.Reason, "spec.requester": d.Spec.Requester} {
		if s == "" || len(s) > maxText || !utf8.ValidString(s) {
			return malformed("%s must be 1 to %d bytes of UTF-8 text", what, maxText)
		}
	}
	switch {
	case d.Spec.NotBefore.IsZero():
		return malformed("spec.notBefore is missing")
	case d.Spec.Expires.IsZero():
		return malformed("spec.expires is missing")
	case !d.Spec.Expires.After(d.Spec.NotBefore):
		return malformed("spec.expires %s is not after spec.notBefore %s", stamp(d.Spec.Expires), stamp(d.Spec.NotBefore))
	case d.Spec.NotBefore.Year() < 2000 || d.Spec.Expires.Year() > 2200:
		return malformed("spec.notBefore and spec.expires must lie between the years 2000 and 2200")
	}
	for i, s := range d.Signatures {
		if s.KeyID == "" || s.Signature == "" {
			return malformed("signatures[%d] needs keyid and signature", i)
		}
	}
	return nil
}

func (s Scope) check() error {
	switch {
	case !namespaceName.MatchString(s.Namespace):
		return malformed("spec.scope.namespace %q is not one namespace name (an override covers exactly one namespace)", s.Namespace)
	case !kindName.MatchString(s.Kind):
		return malformed("spec.scope.kind %q is not one kind (e.g. Pod, Deployment)", s.Kind)
	case !nameGlob.MatchString(s.Name):
		return malformed("spec.scope.name %q must be an object name, with * and ? as wildcards", s.Name)
	}
	if s.LabelSelector != nil {
		if len(s.LabelSelector.MatchLabels) == 0 {
			return malformed("spec.scope.labelSelector has no matchLabels")
		}
		for _, k := range slices.Sorted(maps.Keys(s.LabelSelector.MatchLabels)) {
			if !labelKey.MatchString(k) || !labelVal.MatchString(s.LabelSelector.MatchLabels[k]) {
				return malformed("spec.scope.labelSelector.matchLabels: %q: %q is not a valid label", k, s.LabelSelector.MatchLabels[k])
			}
		}
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// String is a one-line description for messages.
func (s Scope) String() string {
	out := fmt.Sprintf("%s %s/%s", s.Kind, s.Namespace, s.Name)
	if s.LabelSelector != nil {
		for _, k := range slices.Sorted(maps.Keys(s.LabelSelector.MatchLabels)) {
			out += fmt.Sprintf(" %s=%s", k, s.LabelSelector.MatchLabels[k])
		}
	}
	return out
}
