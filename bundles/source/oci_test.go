package source

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charter-dev/charter/bundles/oci"
	"github.com/charter-dev/charter/bundles/oci/ocitest"
	"github.com/charter-dev/charter/keys/keystest"
)

func pushRelease(t *testing.T, reg *ocitest.Registry, repoTag string, tgz []byte) string {
	t.Helper()
	n, err := oci.ParseReference(reg.Ref(repoTag), oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := oci.Push(context.Background(), n, tgz, keystest.Shared(t), oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d.DigestStr()
}

func openOCI(t *testing.T, ref string) *OCI {
	t.Helper()
	src, err := Open(ref, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return src.(*OCI)
}

// The tag is polled by manifest digest: an unchanged digest costs one
// HEAD request and is not verified or activated again; a new push is.
func TestOCIPollsByManifestDigest(t *testing.T) {
	reg := ocitest.Start(t)
	ref := reg.Ref("charter/policy:stable")
	first := pushRelease(t, reg, "charter/policy:stable", tarGz(t, 1))
	src := openOCI(t, ref)
	if src.String() != ref || !src.Remote() {
		t.Errorf("String() = %s, Remote() = %v", src, src.Remote())
	}
	r, _ := newReloader(t, src, nil, signedKeys(t))
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := reg.Requests()
	if changed, err := r.Check(context.Background()); changed || err != nil {
		t.Fatalf("Check of an unchanged tag = %v, %v", changed, err)
	}
	if n := reg.Requests() - before; n != 1 {
		t.Errorf("an unchanged tag took %d requests, want 1 (HEAD of the manifest)", n)
	}
	second := pushRelease(t, reg, "charter/policy:stable", tarGz(t, 2))
	if second == first {
		t.Fatal("two releases, one digest")
	}
	if changed, err := r.Check(context.Background()); !changed || err != nil {
		t.Fatalf("Check after a new push = %v, %v", changed, err)
	}
	if s := r.Current().Release.Serial; s != 2 {
		t.Errorf("serial %d in force, want 2", s)
	}
}

// The registry goes down: the check fails as a fetch failure (counted for
// backoff), the bundle in force stays, and a restart comes up on the state
// directory.
func TestOCIRegistryDown(t *testing.T) {
	reg := ocitest.Start(t)
	ref := reg.Ref("charter/policy:stable")
	pushRelease(t, reg, "charter/policy:stable", tarGz(t, 3))
	state := &State{Dir: filepath.Join(t.TempDir(), "state")}
	r, _ := newReloader(t, openOCI(t, ref), state, signedKeys(t))
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg.Close()
	if _, err := r.Check(context.Background()); ReasonOf(err) != ReasonFetch || !strings.Contains(err.Error(), "resolve "+strings.TrimPrefix(ref, "oci://")) {
		t.Fatalf("Check with the registry down = %v, want a fetch failure naming the reference", err)
	}
	if cur := r.Current(); cur == nil || cur.Release.Serial != 3 {
		t.Fatalf("the bundle in force is gone: %+v", cur)
	}
	restarted, _ := newReloader(t, openOCI(t, ref), state, signedKeys(t))
	if err := restarted.Load(context.Background()); err == nil || !restarted.Ready() || restarted.Current().Release.Serial != 3 {
		t.Fatalf("restart with the registry down: Load = %v, ready %v; want the source's error and serial 3 from the state directory", err, restarted.Ready())
	}
}

// A layer whose bytes do not match its digest is a fetch failure; nothing
// of it is parsed or activated.
func TestOCITamperedLayerKeepsTheBundleInForce(t *testing.T) {
	reg := ocitest.Start(t)
	ref := reg.Ref("charter/policy:stable")
	pushRelease(t, reg, "charter/policy:stable", tarGz(t, 1))
	r, _ := newReloader(t, openOCI(t, ref), nil, signedKeys(t))
	if err := r.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	newer := tarGz(t, 2)
	pushRelease(t, reg, "charter/policy:stable", newer)
	img, err := oci.Image(newer)
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	reg.ServeBlob(ld.String(), tarGz(t, 9))
	if _, err := r.Check(context.Background()); ReasonOf(err) != ReasonFetch || !strings.Contains(err.Error(), "layer") {
		t.Fatalf("Check of a tampered layer = %v, want a fetch failure about the layer", err)
	}
	if s := r.Current().Release.Serial; s != 1 {
		t.Errorf("serial %d in force, want 1", s)
	}
}

func TestOpenOCIBadReference(t *testing.T) {
	for _, tc := range []struct{ ref, msg string }{
		{"oci://policy:v1", "name the registry host"},
		{"oci://ghcr.io/org/policy", "want oci://REGISTRY/REPO:TAG"},
	} {
		if _, err := Open(tc.ref, Options{}); err == nil || !strings.Contains(err.Error(), tc.msg) || errors.Is(err, ErrNotModified) {
			t.Errorf("Open(%q) = %v, want %q", tc.ref, err, tc.msg)
		}
	}
}
