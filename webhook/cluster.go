package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/charter-dev/charter/compiler"
	"github.com/charter-dev/charter/engine"
	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

// Defaults of ClusterDataOptions.
const (
	DefaultClusterDataMaxObjects  = 100000
	DefaultClusterDataSyncTimeout = 2 * time.Minute
	DefaultClusterDataRetry       = time.Minute
)

// ClusterDataOptions configure the webhook's cluster data cache.
type ClusterDataOptions struct {
	Informers *Informers // the shared informers (required)
	Discovery Discovery  // maps a kind to its resource (required)
	// MaxObjects bounds the objects the cache holds, all kinds together
	// (DefaultClusterDataMaxObjects when zero). A kind whose objects would
	// pass it is dropped whole and its informer stopped: the articles that
	// read it fail closed (their requests are not decided: denied, unless
	// fail-open) until a retry, every Retry, finds it within the bound. A
	// kind dropped during a bundle's first sync does not hold the bundle
	// back: it activates at once, those articles failing closed.
	MaxObjects int
	// SyncTimeout bounds how long a bundle's activation waits for the first
	// sync of the kinds it reads; a bundle whose kinds do not sync in time
	// (RBAC missing, an unknown kind) is refused and the last one enforces.
	SyncTimeout time.Duration
	Retry       time.Duration
	Logger      *slog.Logger
}

// Discovery is what the cache asks the apiserver's discovery: a
// discovery.DiscoveryInterface is one.
type Discovery interface {
	ServerPreferredResources() ([]*metav1.APIResourceList, error)
}

// ClusterData is the webhook's cache of the cluster objects cluster queries
// read: only the kinds the bundle in force names, each fed by a client-go
// informer, holding only the fields the bundle reads (engine.Project: no
// managedFields, no Secret data, nothing no query reads). A kind whose
// queries read only metadata is listed and watched as metadata
// (WatchMetadata), so the rest of its objects (a Secret's data) never
// reaches the process. A kind is every resource of that kind name the
// bundle knows of (ClusterDataResources: a declared Knative Service besides
// core Services), merged into data.charter.cluster[kind]. Activating a
// bundle (the one reload path) starts the informers of kinds it names that
// are not watched yet and waits for their first sync; kinds no bundle in
// force reads any more are stopped once it enforces.
type ClusterData struct {
	o   ClusterDataOptions
	log *slog.Logger

	mu     sync.Mutex
	stores map[string]*kindStore                    // by storeKey
	total  int                                      // objects held, all stores
	gvrs   map[string][]schema.GroupVersionResource // discovery answers, by kind and its resources
}

// NewClusterData returns an empty cache; bundles fill it as they activate.
func NewClusterData(o ClusterDataOptions) (*ClusterData, error) {
	if o.Informers == nil || o.Discovery == nil {
		return nil, errors.New("cluster data: informers and discovery are required")
	}
	if o.Informers.meta == nil {
		return nil, errors.New("cluster data: the informers need a metadata client (WithMetadataClient): kinds read only by metadata are listed as metadata")
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = DefaultClusterDataMaxObjects
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = DefaultClusterDataSyncTimeout
	}
	if o.Retry <= 0 {
		o.Retry = DefaultClusterDataRetry
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &ClusterData{o: o, log: o.Logger, stores: map[string]*kindStore{}, gvrs: map[string][]schema.GroupVersionResource{}}, nil
}

// kindStore holds the projected objects of one resource of a kind for one
// set of fields.
type kindStore struct {
	cd       *ClusterData
	kind     string
	key      string
	gvr      schema.GroupVersionResource
	fields   []programv1.Path
	metadata bool // fields are all metadata: listed through the metadata client
	refs     int  // views that read it; cd.mu

	mu       sync.Mutex
	inf      cache.SharedIndexInformer
	stop     func()
	objs     map[string]map[string]ast.Value // namespace -> name -> object
	nsVals   map[string]ast.Value            // cached per namespace; absent when changed
	val      ast.Value                       // cached whole kind; nil when changed
	over     string                          // why the kind is not held (the bound), "" when it is
	retry    *time.Timer
	released bool                       // no view reads it: it never starts again
	events   cache.ResourceEventHandler // the last informer's handlers (a test replays a stopped one's late events)
}

// metadataOnly reports whether paths (from the candidate object) read
// nothing but its metadata, apiVersion and kind: what a metadata-only list
// returns.
func metadataOnly(paths []programv1.Path) bool {
	for _, p := range paths {
		if len(p.Steps) == 0 || p.Steps[0].Kind != programv1.StepField {
			return false
		}
		switch p.Steps[0].Name {
		case "metadata", "apiVersion", "kind":
		default:
			return false
		}
	}
	return true
}

func storeKey(kind string, gvr schema.GroupVersionResource, fields []programv1.Path) string {
	parts := make([]string, 0, len(fields))
	for _, p := range fields {
		var b strings.Builder
		for _, s := range p.Steps {
			fmt.Fprintf(&b, "/%s:%s:%d", s.Kind, s.Name, s.Index)
		}
		parts = append(parts, b.String())
	}
	sort.Strings(parts)
	return kind + "\x00" + gvr.String() + "\x00" + strings.Join(slices.Compact(parts), "\x00")
}

// view returns a view of the kinds e's cluster queries read, starting the
// informers of those not held yet and waiting for their first sync.
func (cd *ClusterData) view(ctx context.Context, e *engine.Engine) (*clusterView, error) {
	v := &clusterView{cd: cd, stores: map[string][]*kindStore{}, articles: e.ClusterArticles()}
	var custom []compiler.CustomKind
	if b := e.Bundle(); b != nil {
		custom = b.Info.CustomKinds
		v.templates = map[string]bool{}
		for _, t := range b.Info.PodTemplates {
			v.templates[t.Kind] = true
		}
	}
	fields := e.ClusterFields()
	fail := func(err error) (*clusterView, error) {
		v.release()
		return nil, err
	}
	for _, kind := range e.ClusterKinds() {
		gvrs, err := cd.resources(kind, custom)
		if err != nil {
			return fail(fmt.Errorf("cluster data: %w", err))
		}
		for _, gvr := range gvrs {
			key := storeKey(kind, gvr, fields[kind])
			cd.mu.Lock()
			s := cd.stores[key]
			if s == nil {
				s = &kindStore{cd: cd, kind: kind, key: key, gvr: gvr, fields: fields[kind], metadata: metadataOnly(fields[kind])}
				cd.stores[key] = s
			}
			s.refs++
			cd.mu.Unlock()
			v.stores[kind] = append(v.stores[kind], s)
			if err := s.ensure(); err != nil {
				return fail(err)
			}
		}
	}
	wctx, cancel := context.WithTimeout(ctx, cd.o.SyncTimeout)
	defer cancel()
	for _, kind := range e.ClusterKinds() {
		for _, s := range v.stores[kind] {
			if err := s.waitFirstSync(wctx); err != nil {
				return fail(fmt.Errorf("cluster data for kind %s: %w (does the webhook's ServiceAccount have get, list and watch on it? charter webhook rbac prints the ClusterRole)", s.kind, err))
			}
		}
	}
	return v, nil
}

// waitFirstSync waits until the store's informer has synced once, or the
// store is dropped over the bound (the articles that read it then fail
// closed, naming the bound: no need to wait, and not an RBAC problem), or
// ctx ends (the error names the last list or watch error).
func (s *kindStore) waitFirstSync(ctx context.Context) error {
	current := func() cache.SharedIndexInformer {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.inf
	}
	for {
		inf := current()
		if inf == nil {
			return nil // over the bound: fails closed, a retry is scheduled
		}
		if cache.WaitForCacheSync(ctx.Done(), func() bool { return current() != inf || inf.HasSynced() }) {
			if current() != inf {
				continue // dropped, or restarted by a retry
			}
			return nil
		}
		return s.cd.o.Informers.waitSynced(ctx, inf, s.gvr.GroupResource().String())
	}
}

// ensure starts the store's informer unless it runs or waits for a retry.
func (s *kindStore) ensure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inf != nil || s.over != "" {
		return nil
	}
	return s.startLocked()
}

func (s *kindStore) startLocked() error {
	s.objs, s.nsVals, s.val = map[string]map[string]ast.Value{}, map[string]ast.Value{}, nil
	watch := s.cd.o.Informers.Watch
	if s.metadata {
		watch = s.cd.o.Informers.WatchMetadata
	}
	// The handlers act only while this start's informer is the store's:
	// a late event of an informer stopped by an overflow (or a release)
	// would otherwise put an object the next informer's list never
	// deletes, or delete one it holds (review finding). inf is set below,
	// with s.mu held as it is here; the handlers read it under s.mu.
	var inf cache.SharedIndexInformer
	current := func() bool { return inf != nil && s.inf == inf }
	events := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.put(current, obj) },
		UpdateFunc: func(_, obj any) { s.put(current, obj) },
		DeleteFunc: func(obj any) { s.delete(current, obj) },
	}
	inf, stop, err := watch(s.gvr, s.transform, events)
	if err != nil {
		return err
	}
	s.inf, s.stop, s.events = inf, stop, events
	return nil
}

// transform keeps only what the bundle's queries read, of an object as
// listed (unstructured) or of its metadata (metadata-only informers).
func (s *kindStore) transform(obj any) (any, error) {
	var o map[string]any
	switch t := obj.(type) {
	case *unstructured.Unstructured:
		o = t.Object
	case *metav1.PartialObjectMetadata:
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(t)
		if err != nil {
			return nil, fmt.Errorf("cluster data %s: %w", s.kind, err)
		}
		o = m
	default:
		return obj, nil // a DeletedFinalStateUnknown: its object was transformed when stored
	}
	kept := engine.Project(o, s.fields)
	kept["apiVersion"], kept["kind"] = s.gvr.GroupVersion().String(), s.kind
	meta, _ := kept["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		kept["metadata"] = meta
	}
	if m, ok := o["metadata"].(map[string]any); ok {
		if rv, _ := m["resourceVersion"].(string); rv != "" {
			meta["resourceVersion"] = rv
		}
	}
	return &unstructured.Unstructured{Object: kept}, nil
}

// put stores obj, an event of the informer current (called with s.mu held)
// says is the store's.
func (s *kindStore) put(current func() bool, obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	v, err := ast.InterfaceToValue(u.Object)
	if err != nil {
		s.cd.log.Error("cluster object not cached", "kind", s.kind, "name", u.GetName(), "err", err)
		return
	}
	ns, name := u.GetNamespace(), u.GetName()
	s.mu.Lock()
	if s.over != "" || !current() {
		s.mu.Unlock()
		return
	}
	byName := s.objs[ns]
	if byName == nil {
		byName = map[string]ast.Value{}
		s.objs[ns] = byName
	}
	_, had := byName[name]
	byName[name] = v
	delete(s.nsVals, ns)
	s.val = nil
	over := !had && !s.cd.add(1) // counted with the object, so a release in between counts it out
	s.mu.Unlock()
	if over {
		s.overflow()
	}
}

// delete removes obj, an event of the informer current (called with s.mu
// held) says is the store's.
func (s *kindStore) delete(current func() bool, obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	ns, name := u.GetNamespace(), u.GetName()
	s.mu.Lock()
	if !current() {
		s.mu.Unlock()
		return
	}
	_, had := s.objs[ns][name]
	if had {
		delete(s.objs[ns], name)
		if len(s.objs[ns]) == 0 {
			delete(s.objs, ns)
		}
		delete(s.nsVals, ns)
		s.val = nil
		s.cd.add(-1)
	}
	s.mu.Unlock()
}

// add counts n objects in or out; false when the bound is passed. It may
// be called with a store's mu held (never the other way round).
func (cd *ClusterData) add(n int) bool {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	cd.total += n
	return cd.total <= cd.o.MaxObjects
}

// overflow drops the kind: its informer stops, its objects go, and the
// articles that read it fail closed until a retry holds it within the bound.
func (s *kindStore) overflow() {
	s.mu.Lock()
	if s.over != "" || s.inf == nil {
		s.mu.Unlock()
		return
	}
	s.over = fmt.Sprintf("the cluster data cache passed its bound of %d objects (all kinds together) while listing %s", s.cd.o.MaxObjects, s.gvr.GroupResource())
	s.dropLocked()
	s.retry = time.AfterFunc(s.cd.o.Retry, s.retryNow)
	s.mu.Unlock()
	s.cd.log.Error("cluster data over its bound: articles that read this kind fail closed", "kind", s.kind, "max", s.cd.o.MaxObjects, "retry", s.cd.o.Retry)
}

// dropLocked stops the informer and frees the objects, counting them out.
func (s *kindStore) dropLocked() {
	held := 0
	for _, m := range s.objs {
		held += len(m)
	}
	if s.stop != nil {
		s.stop()
	}
	s.inf, s.stop, s.objs, s.nsVals, s.val = nil, nil, nil, nil, nil
	s.cd.add(-held)
}

// retryNow lists a kind dropped over the bound again. Whether the store is
// still read is decided under its own lock, where releaseStores marks it
// released: checked under cd.mu before, a release between the check and
// the start left a running informer no view would ever stop (review
// finding).
func (s *kindStore) retryNow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released || s.inf != nil {
		return
	}
	s.over = ""
	if err := s.startLocked(); err != nil {
		s.cd.log.Error("cluster data informer not restarted", "kind", s.kind, "err", err)
	}
}

// unavailable says why decisions cannot read the kind now ("" when they can).
func (s *kindStore) unavailable() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.over != "":
		return s.over
	case s.inf == nil:
		return "its informer is stopped"
	case !s.inf.HasSynced():
		return "its informer has not synced"
	}
	return ""
}

// value is the kind as data.charter.cluster[kind] holds it.
func (s *kindStore) value() ast.Value {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.val != nil {
		return s.val
	}
	items := make([][2]*ast.Term, 0, len(s.objs))
	for ns, byName := range s.objs {
		nv, ok := s.nsVals[ns]
		if !ok {
			objs := make([][2]*ast.Term, 0, len(byName))
			for name, o := range byName {
				objs = append(objs, ast.Item(ast.StringTerm(name), ast.NewTerm(o)))
			}
			nv = ast.NewObject(objs...)
			s.nsVals[ns] = nv
		}
		items = append(items, ast.Item(ast.StringTerm(ns), ast.NewTerm(nv)))
	}
	s.val = ast.NewObject(items...)
	return s.val
}

// releaseStores stops the stores no view reads any more, for good.
func (cd *ClusterData) releaseStores(stores map[string][]*kindStore) {
	cd.mu.Lock()
	var stop []*kindStore
	for _, list := range stores {
		for _, s := range list {
			s.refs--
			if s.refs == 0 {
				delete(cd.stores, s.key)
				stop = append(stop, s)
			}
		}
	}
	cd.mu.Unlock()
	for _, s := range stop {
		s.mu.Lock()
		s.released = true
		if s.retry != nil {
			s.retry.Stop()
		}
		s.dropLocked()
		s.mu.Unlock()
	}
}

// Objects is how many objects the cache holds, all kinds together.
func (cd *ClusterData) Objects() int {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	return cd.total
}
