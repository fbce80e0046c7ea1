package webhook

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/tools/cache"
)

// TestInformersReadiness: a shared informer (For) is pending, so the
// webhook not ready, until it synced from Start on; a private one (Watch)
// runs at once, its caller waits for it, and it never holds readiness
// back; Stop ends the private ones.
func TestInformersReadiness(t *testing.T) {
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{widgets: "WidgetList", storageClasses: "StorageClassList"})
	inf := NewInformers(dyn, 0)
	defer inf.Stop()
	shared := inf.For(widgets)
	if p := inf.Pending(); len(p) != 1 || p[0] != "widgets.example.com" {
		t.Fatalf("Pending = %v, want the widgets", p)
	}
	priv, stop, err := inf.Watch(storageClasses, nil, cache.ResourceEventHandlerFuncs{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := inf.waitSynced(ctx, priv, "storageclasses"); err != nil {
		t.Fatal(err)
	}
	if p := inf.Pending(); len(p) != 1 || p[0] != "widgets.example.com" {
		t.Fatalf("Pending = %v with the private informer synced and the shared one not started", p)
	}
	inf.Start(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), shared.HasSynced) {
		t.Fatal("the shared informer never synced")
	}
	if p := inf.Pending(); len(p) != 0 {
		t.Fatalf("Pending after Start: %v", p)
	}
	stop()
	short, cancelShort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelShort()
	dead, stopDead, err := inf.Watch(storageClasses, nil, cache.ResourceEventHandlerFuncs{})
	if err != nil {
		t.Fatal(err)
	}
	stopDead()
	if err := inf.waitSynced(short, dead, "storageclasses"); err == nil && !dead.HasSynced() {
		t.Fatal("waitSynced on a stopped, unsynced informer returned no error")
	}
}
