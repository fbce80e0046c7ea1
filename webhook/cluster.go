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

	"github.com/charter-dev/charter/engine"
	"github.com/charter-dev/charter/kinds"
	programv1 "github.com/charter-dev/charter/program/v1"
	"github.com/open-policy-agent/opa/v1/ast"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	// fail-open) until a retry, every Retry, finds it within the bound.
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
// managedFields, no Secret data, nothing no query reads). Activating a
// bundle (the one reload path) starts the informers of kinds it names that
// are not watched yet and waits for their first sync; kinds no bundle in
// force reads any more are stopped once it enforces.
type ClusterData struct {
	o   ClusterDataOptions
	log *slog.Logger

	mu     sync.Mutex
	stores map[string]*kindStore // by kind and fields
	total  int                   // objects held, all stores
	gvrs   map[string]schema.GroupVersionResource
}

// NewClusterData returns an empty cache; bundles fill it as they activate.
func NewClusterData(o ClusterDataOptions) (*ClusterData, error) {
	if o.Informers == nil || o.Discovery == nil {
		return nil, errors.New("cluster data: informers and discovery are required")
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
	return &ClusterData{o: o, log: o.Logger, stores: map[string]*kindStore{}, gvrs: map[string]schema.GroupVersionResource{}}, nil
}

// kindStore holds the projected objects of one kind for one set of fields.
type kindStore struct {
	cd     *ClusterData
	kind   string
	key    string
	gvr    schema.GroupVersionResource
	fields []programv1.Path
	refs   int // views that read it; cd.mu

	mu     sync.Mutex
	inf    cache.SharedIndexInformer
	stop   func()
	objs   map[string]map[string]ast.Value // namespace -> name -> object
	nsVals map[string]ast.Value            // cached per namespace; absent when changed
	val    ast.Value                       // cached whole kind; nil when changed
	over   string                          // why the kind is not held (the bound), "" when it is
	retry  *time.Timer
}

func storeKey(kind string, fields []programv1.Path) string {
	parts := make([]string, 0, len(fields))
	for _, p := range fields {
		var b strings.Builder
		for _, s := range p.Steps {
			fmt.Fprintf(&b, "/%s:%s:%d", s.Kind, s.Name, s.Index)
		}
		parts = append(parts, b.String())
	}
	sort.Strings(parts)
	return kind + "\x00" + strings.Join(slices.Compact(parts), "\x00")
}

// resource finds where the apiserver serves kind: its preferred version,
// listable and watchable; a kind served by several groups is the built-in
// one, else ambiguous.
func (cd *ClusterData) resource(kind string) (schema.GroupVersionResource, error) {
	cd.mu.Lock()
	gvr, ok := cd.gvrs[kind]
	cd.mu.Unlock()
	if ok {
		return gvr, nil
	}
	lists, err := cd.o.Discovery.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return gvr, fmt.Errorf("discovery: %w", err)
	}
	var found []schema.GroupVersionResource
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range l.APIResources {
			if r.Kind == kind && !strings.Contains(r.Name, "/") && slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "watch") {
				found = append(found, gv.WithResource(r.Name))
			}
		}
	}
	if len(found) > 1 {
		if pref, ok := kinds.Preferred(kind); ok {
			group := schema.FromAPIVersionAndKind(pref, kind).Group
			found = slices.DeleteFunc(found, func(g schema.GroupVersionResource) bool { return g.Group != group })
		}
	}
	switch len(found) {
	case 0:
		if err != nil {
			return gvr, fmt.Errorf("the cluster serves no listable kind %s (discovery: %v)", kind, err)
		}
		return gvr, fmt.Errorf("the cluster serves no listable kind %s", kind)
	case 1:
		cd.mu.Lock()
		cd.gvrs[kind] = found[0]
		cd.mu.Unlock()
		return found[0], nil
	}
	return gvr, fmt.Errorf("kind %s is served by several groups (%v): cluster queries cannot tell which", kind, found)
}

// view returns a view of the kinds e's cluster queries read, starting the
// informers of those not held yet and waiting for their first sync.
func (cd *ClusterData) view(ctx context.Context, e *engine.Engine) (*clusterView, error) {
	v := &clusterView{cd: cd, stores: map[string]*kindStore{}, articles: e.ClusterArticles()}
	if b := e.Bundle(); b != nil {
		v.templates = map[string]bool{}
		for _, t := range b.Info.PodTemplates {
			v.templates[t.Kind] = true
		}
	}
	fields := e.ClusterFields()
	var started []*kindStore
	fail := func(err error) (*clusterView, error) {
		v.release()
		return nil, err
	}
	for _, kind := range e.ClusterKinds() {
		gvr, err := cd.resource(kind)
		if err != nil {
			return fail(fmt.Errorf("cluster data: %w", err))
		}
		key := storeKey(kind, fields[kind])
		cd.mu.Lock()
		s := cd.stores[key]
		if s == nil {
			s = &kindStore{cd: cd, kind: kind, key: key, gvr: gvr, fields: fields[kind]}
			cd.stores[key] = s
		}
		s.refs++
		cd.mu.Unlock()
		v.stores[kind] = s
		if err := s.ensure(); err != nil {
			return fail(err)
		}
		started = append(started, s)
	}
	wctx, cancel := context.WithTimeout(ctx, cd.o.SyncTimeout)
	defer cancel()
	for _, s := range started {
		s.mu.Lock()
		inf := s.inf
		s.mu.Unlock()
		if inf == nil {
			continue // over the bound: fails closed, a retry is scheduled
		}
		if err := cd.o.Informers.waitSynced(wctx, inf, s.gvr.GroupResource().String()); err != nil {
			return fail(fmt.Errorf("cluster data for kind %s: %w (does the webhook's ServiceAccount have get, list and watch on it? charter webhook rbac prints the ClusterRole)", s.kind, err))
		}
	}
	return v, nil
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
	inf, stop, err := s.cd.o.Informers.Watch(s.gvr, s.transform, cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.put(obj) },
		UpdateFunc: func(_, obj any) { s.put(obj) },
		DeleteFunc: s.delete,
	})
	if err != nil {
		return err
	}
	s.inf, s.stop = inf, stop
	return nil
}

// transform keeps only what the bundle's queries read.
func (s *kindStore) transform(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil // a DeletedFinalStateUnknown: its object was transformed when stored
	}
	kept := engine.Project(u.Object, s.fields)
	kept["apiVersion"], kept["kind"] = s.gvr.GroupVersion().String(), s.kind
	if rv := u.GetResourceVersion(); rv != "" {
		kept["metadata"].(map[string]any)["resourceVersion"] = rv
	}
	return &unstructured.Unstructured{Object: kept}, nil
}

func (s *kindStore) put(obj any) {
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
	if s.over != "" || s.inf == nil {
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
	s.mu.Unlock()
	if !had && !s.cd.add(1) {
		s.overflow()
	}
}

func (s *kindStore) delete(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	ns, name := u.GetNamespace(), u.GetName()
	s.mu.Lock()
	_, had := s.objs[ns][name]
	if had {
		delete(s.objs[ns], name)
		if len(s.objs[ns]) == 0 {
			delete(s.objs, ns)
		}
		delete(s.nsVals, ns)
		s.val = nil
	}
	s.mu.Unlock()
	if had {
		s.cd.add(-1)
	}
}

// add counts n objects in or out; false when the bound is passed.
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
	held := 0
	for _, m := range s.objs {
		held += len(m)
	}
	s.over = fmt.Sprintf("the cluster data cache passed its bound of %d objects while listing %s", s.cd.o.MaxObjects, s.gvr.GroupResource())
	s.stop()
	s.inf, s.stop, s.objs, s.nsVals, s.val = nil, nil, nil, nil, nil
	s.retry = time.AfterFunc(s.cd.o.Retry, s.retryNow)
	s.mu.Unlock()
	s.cd.add(-held)
	s.cd.log.Error("cluster data over its bound: articles that read this kind fail closed", "kind", s.kind, "max", s.cd.o.MaxObjects, "retry", s.cd.o.Retry)
}

func (s *kindStore) retryNow() {
	s.cd.mu.Lock()
	live := s.refs > 0
	s.cd.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !live || s.inf != nil {
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

// release stops the stores no view reads any more.
func (cd *ClusterData) releaseStores(stores map[string]*kindStore) {
	cd.mu.Lock()
	var stop []*kindStore
	for _, s := range stores {
		s.refs--
		if s.refs == 0 {
			delete(cd.stores, s.key)
			stop = append(stop, s)
		}
	}
	cd.mu.Unlock()
	for _, s := range stop {
		s.mu.Lock()
		held := 0
		for _, m := range s.objs {
			held += len(m)
		}
		if s.stop != nil {
			s.stop()
		}
		if s.retry != nil {
			s.retry.Stop()
		}
		s.inf, s.stop, s.objs, s.nsVals, s.val = nil, nil, nil, nil, nil
		s.mu.Unlock()
		cd.add(-held)
	}
}

// Objects is how many objects the cache holds, all kinds together.
func (cd *ClusterData) Objects() int {
	cd.mu.Lock()
	defer cd.mu.Unlock()
	return cd.total
}

// clusterView is the cluster data one activated bundle reads.
type clusterView struct {
	cd        *ClusterData
	stores    map[string]*kindStore // by kind
	articles  []engine.ClusterArticle
	templates map[string]bool // kinds with a pod template
	once      sync.Once
}

// ClusterValue is data.charter.cluster now.
func (v *clusterView) ClusterValue() ast.Value {
	items := make([][2]*ast.Term, 0, len(v.stores))
	for kind, s := range v.stores {
		items = append(items, ast.Item(ast.StringTerm(kind), ast.NewTerm(s.value())))
	}
	return ast.NewObject(items...)
}

func (v *clusterView) release() { v.once.Do(func() { v.cd.releaseStores(v.stores) }) }

// failClosed names, for an input of kind, the articles that read a kind the
// cache cannot supply now, and why; "" when none.
func (v *clusterView) failClosed(kind string) string {
	var msgs []string
	for _, a := range v.articles {
		if !v.matches(a, kind) {
			continue
		}
		for _, k := range a.Reads {
			if why := v.stores[k].unavailable(); why != "" {
				msgs = append(msgs, fmt.Sprintf("article %s reads %s objects, which the webhook cannot supply (%s)", a.ID, k, why))
			}
		}
	}
	return strings.Join(msgs, "; ")
}

func (v *clusterView) matches(a engine.ClusterArticle, kind string) bool {
	for _, k := range a.Kinds {
		if k == "*" || k == kind || (k == "Pod" && a.CoversPods && v.templates[kind]) {
			return true
		}
	}
	return false
}
