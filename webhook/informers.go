package webhook

import (
	"context"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// Informers is the webhook's one client-go informer factory: every watch on
// cluster objects (the Override objects, the cluster data a bundle reads)
// shares its client and its caches. The readiness rule is the same for all:
// the webhook is ready only once every informer it started has synced
// (listed its resource once), so no replica answers from a cache that
// has not seen the cluster yet.
type Informers struct {
	factory dynamicinformer.DynamicSharedInformerFactory
	mu      sync.Mutex
	synced  map[schema.GroupVersionResource]cache.InformerSynced
}

// NewInformers returns a factory over client, each informer resyncing every
// resync (0: never).
func NewInformers(client dynamic.Interface, resync time.Duration) *Informers {
	return &Informers{
		factory: dynamicinformer.NewDynamicSharedInformerFactory(client, resync),
		synced:  map[schema.GroupVersionResource]cache.InformerSynced{},
	}
}

// For is the shared informer of one resource; readiness waits for it. Call
// it before Start (an informer asked for later starts at the next Start).
func (i *Informers) For(gvr schema.GroupVersionResource) cache.SharedIndexInformer {
	inf := i.factory.ForResource(gvr).Informer()
	i.mu.Lock()
	defer i.mu.Unlock()
	i.synced[gvr] = inf.HasSynced
	return inf
}

// Start runs every informer asked for until ctx ends, then stops them and
// waits for them.
func (i *Informers) Start(ctx context.Context) {
	i.factory.Start(ctx.Done())
	go func() {
		<-ctx.Done()
		i.factory.Shutdown()
	}()
}

// Pending lists the resources whose informer has not synced yet, sorted;
// empty when all have (the webhook may be ready).
func (i *Informers) Pending() []string {
	if i == nil {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	var out []string
	for gvr, synced := range i.synced {
		if !synced() {
			out = append(out, gvr.GroupResource().String())
		}
	}
	slices.Sort(out)
	return out
}
