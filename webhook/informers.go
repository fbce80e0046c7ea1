package webhook

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// Informers is the webhook's one client-go informer factory: every watch on
// cluster objects (the Override objects, the cluster data a bundle reads)
// shares its client. The readiness rule is the same for all: the webhook is
// ready only once every informer it needs has synced (listed its resource
// once), so no replica answers from a cache that has not seen the cluster
// yet. Shared informers (For) gate readiness through Pending; the private
// informers of the cluster data cache (Watch) are waited for by the bundle
// that reads them, which activates only once they synced, so readiness
// (which needs an active bundle) waits for them too, and a reload that adds
// kinds leaves the replica ready on the bundle in force meanwhile.
type Informers struct {
	factory dynamicinformer.DynamicSharedInformerFactory
	client  dynamic.Interface
	meta    metadata.Interface // lists objects as metadata only (WatchMetadata)
	resync  time.Duration
	ctx     context.Context // the private informers' lifetime
	cancel  context.CancelFunc

	mu      sync.Mutex
	synced  map[schema.GroupVersionResource]cache.InformerSynced
	next    int
	private map[int]*informer
}

// informer is a private informer (Watch).
type informer struct {
	name string // group/resource
	inf  cache.SharedIndexInformer
	stop context.CancelFunc

	mu      sync.Mutex
	lastErr error // the last list or watch error
}

// InformersOption configures NewInformers.
type InformersOption func(*Informers)

// WithMetadataClient gives the informers a metadata-only client: private
// informers of WatchMetadata list and watch through it, so the apiserver
// sends only each object's metadata (never a Secret's data). The cluster
// data cache requires it.
func WithMetadataClient(m metadata.Interface) InformersOption {
	return func(i *Informers) { i.meta = m }
}

// NewInformers returns a factory over client, each informer resyncing every
// resync (0: never).
func NewInformers(client dynamic.Interface, resync time.Duration, opts ...InformersOption) *Informers {
	ctx, cancel := context.WithCancel(context.Background())
	i := &Informers{
		factory: dynamicinformer.NewDynamicSharedInformerFactory(client, resync),
		client:  client, resync: resync, ctx: ctx, cancel: cancel,
		synced:  map[schema.GroupVersionResource]cache.InformerSynced{},
		private: map[int]*informer{},
	}
	for _, o := range opts {
		o(i)
	}
	return i
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

// Start runs every informer asked for until ctx ends, then stops them (the
// private ones too) and waits for them.
func (i *Informers) Start(ctx context.Context) {
	i.factory.Start(ctx.Done())
	go func() {
		select {
		case <-ctx.Done():
		case <-i.ctx.Done():
		}
		i.cancel()
		i.factory.Shutdown()
	}()
}

// Stop stops the private informers (the shared ones stop with Start's ctx).
func (i *Informers) Stop() {
	if i != nil {
		i.cancel()
	}
}

// Pending lists the resources whose shared informer has not synced yet,
// sorted; empty when all have (the webhook may be ready).
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

// Watch starts, at once, a private informer of a resource (all namespaces)
// whose objects pass through transform before they are stored (nil: kept
// as listed) and go to h, until stop is called or the informers stop. Its
// caller waits for its sync (waitSynced).
func (i *Informers) Watch(gvr schema.GroupVersionResource, transform cache.TransformFunc, h cache.ResourceEventHandler) (inf cache.SharedIndexInformer, stop func(), err error) {
	sii := dynamicinformer.NewFilteredDynamicInformer(i.client, gvr, "", i.resync, cache.Indexers{}, nil).Informer()
	return i.watch(gvr, sii, transform, h)
}

// WatchMetadata is Watch through the metadata client: the objects are
// *metav1.PartialObjectMetadata (before transform), and nothing but their
// metadata ever reaches the process.
func (i *Informers) WatchMetadata(gvr schema.GroupVersionResource, transform cache.TransformFunc, h cache.ResourceEventHandler) (inf cache.SharedIndexInformer, stop func(), err error) {
	if i.meta == nil {
		return nil, nil, fmt.Errorf("informer %s: no metadata client (WithMetadataClient)", gvr.GroupResource())
	}
	sii := metadatainformer.NewFilteredMetadataInformer(i.meta, gvr, "", i.resync, cache.Indexers{}, nil).Informer()
	return i.watch(gvr, sii, transform, h)
}

func (i *Informers) watch(gvr schema.GroupVersionResource, sii cache.SharedIndexInformer, transform cache.TransformFunc, h cache.ResourceEventHandler) (inf cache.SharedIndexInformer, stop func(), err error) {
	in := &informer{name: gvr.GroupResource().String(), inf: sii}
	if transform != nil {
		if err := sii.SetTransform(transform); err != nil {
			return nil, nil, fmt.Errorf("informer %s: %w", in.name, err)
		}
	}
	_ = sii.SetWatchErrorHandler(func(r *cache.Reflector, err error) {
		in.mu.Lock()
		in.lastErr = err
		in.mu.Unlock()
		cache.DefaultWatchErrorHandler(i.ctx, r, err)
	})
	reg, err := sii.AddEventHandler(h)
	if err != nil {
		return nil, nil, fmt.Errorf("informer %s: %w", in.name, err)
	}
	// Synced means h has handled the initial list, not only that the
	// informer queued it: a cache still filling would answer "absent".
	in.inf = handlerSynced{SharedIndexInformer: sii, reg: reg}
	ctx, cancel := context.WithCancel(i.ctx)
	in.stop = cancel
	i.mu.Lock()
	id := i.next
	i.next++
	i.private[id] = in
	i.mu.Unlock()
	go sii.RunWithContext(ctx)
	return in.inf, func() {
		i.mu.Lock()
		delete(i.private, id)
		i.mu.Unlock()
		cancel()
	}, nil
}

// waitSynced waits until inf (a private informer) has synced or ctx ends;
// the error names the last list or watch error (RBAC!).
func (i *Informers) waitSynced(ctx context.Context, inf cache.SharedIndexInformer, name string) error {
	if cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, in := range i.private {
		if in.inf == inf {
			in.mu.Lock()
			defer in.mu.Unlock()
			if in.lastErr != nil {
				return fmt.Errorf("%s not synced: %w", name, in.lastErr)
			}
		}
	}
	return fmt.Errorf("%s not synced: %w", name, ctx.Err())
}

// handlerSynced is a private informer whose HasSynced is its handler's: true
// once the handler has processed every object of the initial list
// (client-go's ResourceEventHandlerRegistration.HasSynced), where the
// informer's own HasSynced is true as soon as the list is queued.
type handlerSynced struct {
	cache.SharedIndexInformer
	reg cache.ResourceEventHandlerRegistration
}

func (h handlerSynced) HasSynced() bool { return h.reg.HasSynced() }
