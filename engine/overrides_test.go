package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/charter-dev/charter/bundles"
	"github.com/charter-dev/charter/internal/chartergen"
	"github.com/charter-dev/charter/overrides"
)

var overrideNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// clockPair loads a charter twice, native and OPA alone, both reading a
// fixed clock.
func clockPair(t testing.TB, path string) (native, opa *Engine) {
	t.Helper()
	b, _, err := bundles.FromCharters([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	clock := Clock(func() time.Time { return overrideNow })
	if native, err = New(context.Background(), b, clock); err != nil {
		t.Fatal(err)
	}
	if opa, err = New(context.Background(), b, OPAOnly(), clock); err != nil {
		t.Fatal(err)
	}
	return native, opa
}

func prepared(t testing.TB, list ...*overrides.Verified) *Overrides {
	t.Helper()
	set, conflicts := overrides.NewSet(list)
	if len(conflicts) > 0 {
		t.Fatalf("conflicting ids: %v", conflicts)
	}
	ov, err := NewOverrides(set)
	if err != nil {
		t.Fatal(err)
	}
	return ov
}

// sameWith decides in with ov natively and with OPA alone and stops the
// test unless both decide alike.
func sameWith(t testing.TB, native, opa *Engine, what string, in map[string]any, ov *Overrides) Decision {
	t.Helper()
	want, err := opa.DecideWith(context.Background(), in, ov)
	if err != nil {
		t.Fatal(err)
	}
	got, err := native.DecideWith(context.Background(), in, ov)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		js, _ := json.Marshal(in)
		ovs, _ := json.Marshal(ov.Set())
		t.Fatalf("%s: native and OPA disagree on %s\nwith overrides %s\nnative: %+v\nopa:    %+v", what, js, ovs, got, want)
	}
	return got
}

// object facts an override scope is written from.
func facts(obj map[string]any) (ns, kind, name string, labels map[string]any) {
	o := obj
	if obj["kind"] == "AdmissionReview" {
		req, _ := obj["request"].(map[string]any)
		ns, _ = req["namespace"].(string)
		if o, _ = req["object"].(map[string]any); o == nil {
			o, _ = req["oldObject"].(map[string]any)
		}
	}
	meta, _ := o["metadata"].(map[string]any)
	if obj["kind"] != "AdmissionReview" {
		ns, _ = meta["namespace"].(string)
	}
	kind, _ = o["kind"].(string)
	name, _ = meta["name"].(string)
	labels, _ = meta["labels"].(map[string]any)
	return ns, kind, name, labels
}

// overrideCandidates are overrides written around obj and the article it violates:
// one that matches, and one per way of missing it.
func overrideCandidates(rng *rand.Rand, obj map[string]any, article string) []*overrides.Verified {
	ns, kind, name, labels := facts(obj)
	if ns == "" {
		ns = "default"
	}
	if kind == "" {
		kind = "Pod"
	}
	base := func(id string) *overrides.Verified {
		return &overrides.Verified{
			ID: id, Charter: "c", Articles: []string{article},
			Scope:       overrides.Scope{Namespace: ns, Kind: kind, Name: name},
			NotBeforeNs: overrideNow.Add(-time.Minute).UnixNano(), ExpiresNs: overrideNow.Add(time.Minute).UnixNano(),
		}
	}
	if name == "" {
		base = func(id string) *overrides.Verified {
			v := &overrides.Verified{ID: id, Charter: "c", Articles: []string{article},
				Scope:       overrides.Scope{Namespace: ns, Kind: kind, Name: "*"},
				NotBeforeNs: overrideNow.Add(-time.Minute).UnixNano(), ExpiresNs: overrideNow.Add(time.Minute).UnixNano()}
			return v
		}
	}
	exact := base("m-exact")
	glob := base("m-glob")
	if len(name) > 2 {
		glob.Scope.Name = name[:2] + "*"
	}
	labelled := base("m-labels")
	if len(labels) > 0 {
		labelled.Scope.LabelSelector = &overrides.LabelSelector{MatchLabels: map[string]string{}}
		for k, v := range labels {
			s, _ := v.(string)
			labelled.Scope.LabelSelector.MatchLabels[k] = s
		}
	}
	otherNS := base("x-namespace")
	otherNS.Scope.Namespace = ns + "-other"
	otherKind := base("x-kind")
	otherKind.Scope.Kind = kind + "Set"
	otherName := base("x-name")
	otherName.Scope.Name = name + "-other"
	missingLabel := base("x-label")
	missingLabel.Scope.LabelSelector = &overrides.LabelSelector{MatchLabels: map[string]string{"charter-test": "absent"}}
	expired := base("x-expired")
	expired.ExpiresNs = overrideNow.UnixNano() // the window is [notBefore, expires)
	early := base("x-early")
	early.NotBeforeNs = overrideNow.Add(time.Nanosecond).UnixNano()
	otherArticle := base("x-article")
	otherArticle.Articles = []string{article + "-other"}
	all := []*overrides.Verified{exact, glob, labelled, otherNS, otherKind, otherName, missingLabel, expired, early, otherArticle}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:1+rng.IntN(len(all))]
}

// TestOverridesNativeMatchesOPA: with verified overrides in force, the
// native path lifts exactly the denials the compiled Rego lifts (and names
// the same override), on every shipped object and random mutations of it,
// against overrides that match it and overrides that miss it by one field.
func TestOverridesNativeMatchesOPA(t *testing.T) {
	objects := corpus(t)
	rng := rand.New(rand.NewPCG(uint64(envInt("NATIVE_SEED", 7)), 13))
	lifted, kept := 0, 0
	for _, path := range []string{"../policies/anti-delos.yaml", "../policies/pod-security-restricted.yaml", "../compiler/testdata/golden/constructs.yaml"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			native, opa := clockPair(t, path)
			for i, obj := range objects {
				for j := range 2 {
					in := obj
					if j > 0 {
						in = chartergen.DeepCopy(obj).(map[string]any)
						mutate(rng, in, 2)
					}
					plain := sameWith(t, native, opa, fmt.Sprintf("object %d", i), in, nil)
					if len(plain.Violations) == 0 {
						continue
					}
					article := plain.Violations[rng.IntN(len(plain.Violations))].Article
					d := sameWith(t, native, opa, fmt.Sprintf("object %d (mutation %d)", i, j), in, prepared(t, overrideCandidates(rng, in, article)...))
					lifted += len(d.Overridden)
					kept += len(d.Violations)
				}
			}
		})
	}
	if lifted < 50 || kept < 50 {
		t.Fatalf("%d denials lifted, %d kept: the test no longer exercises both outcomes", lifted, kept)
	}
	t.Logf("native == OPA with overrides: %d denials lifted, %d kept", lifted, kept)
}

// TestOverrideLiftsDenial: a matching override turns the denial into an
// allowed decision naming it; the least matching id wins; outside its time
// window it lifts nothing.
func TestOverrideLiftsDenial(t *testing.T) {
	native, opa := clockPair(t, "testdata/charter.yaml")
	obj := pod(map[string]any{"name": "c", "image": "nginx", "securityContext": map[string]any{"privileged": true}})
	obj["metadata"] = map[string]any{"name": "web-1", "namespace": "shop", "labels": map[string]any{"app": "web"}}
	plain := sameWith(t, native, opa, "no overrides", obj, nil)
	if plain.Allowed || len(plain.Violations) == 0 {
		t.Fatalf("the test object is not denied: %+v", plain)
	}
	var articles []string
	for _, v := range plain.Violations {
		articles = append(articles, v.Article)
	}
	mk := func(id string, shift time.Duration) *overrides.Verified {
		return &overrides.Verified{ID: id, Charter: "c", Articles: articles,
			Scope:       overrides.Scope{Namespace: "shop", Kind: "Pod", Name: "web-?", LabelSelector: &overrides.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
			NotBeforeNs: overrideNow.Add(shift - time.Hour).UnixNano(), ExpiresNs: overrideNow.Add(shift + time.Hour).UnixNano()}
	}
	d := sameWith(t, native, opa, "two overrides", obj, prepared(t, mk("zz", 0), mk("aa", 0)))
	if !d.Allowed || len(d.Violations) != 0 || len(d.Overridden) != len(plain.Violations) || d.Overridden[0].Override != "aa" {
		t.Errorf("decision with overrides = %+v, want every violation overridden by aa", d)
	}
	for _, shift := range []time.Duration{2 * time.Hour, -2 * time.Hour} {
		d := sameWith(t, native, opa, "outside the window", obj, prepared(t, mk("aa", shift)))
		if d.Allowed || len(d.Overridden) != 0 {
			t.Errorf("override shifted by %s lifted: %+v", shift, d)
		}
	}
}

// FuzzOverridesNativeMatchesOPA: any override scope (as the fuzzer writes
// it, valid or not) lifts the same denials natively and in Rego.
func FuzzOverridesNativeMatchesOPA(f *testing.F) {
	native, opa := clockPair(f, "../policies/anti-delos.yaml")
	objects := corpus(f)
	f.Add(0, "default", "Pod", "*", "", "", "AD-001", int64(0), int64(60))
	f.Add(3, "shop", "Deployment", "web-?", "app", "web", "AD-007", int64(-120), int64(-60))
	f.Fuzz(func(t *testing.T, i int, ns, kind, name, lk, lv, article string, from, until int64) {
		obj := objects[(i%len(objects)+len(objects))%len(objects)]
		v := &overrides.Verified{ID: "f", Charter: "c", Articles: []string{article}, Scope: overrides.Scope{Namespace: ns, Kind: kind, Name: name},
			NotBeforeNs: overrideNow.Add(time.Duration(from) * time.Second).UnixNano(), ExpiresNs: overrideNow.Add(time.Duration(until) * time.Second).UnixNano()}
		if lk != "" {
			v.Scope.LabelSelector = &overrides.LabelSelector{MatchLabels: map[string]string{lk: lv}}
		}
		sameWith(t, native, opa, "fuzzed override", obj, prepared(t, v))
	})
}
