package webhook

import (
	"encoding/json"

	"github.com/charter-dev/charter/overrides"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

// OverrideResource is the Override CRD's resource (deploy/crds): cluster
// scoped, so an override id names one object in the whole cluster.
var OverrideResource = schema.GroupVersionResource{Group: "charter.dev", Version: "v1", Resource: "overrides"}

// WatchObjects puts every Override object of the cluster into the pool, and
// takes it out when it is deleted, through the shared informers (started
// with them; readiness waits for their first list). The object is only
// transport: it counts only when the council's signatures verify.
func (o *Overrides) WatchObjects(inf *Informers) error {
	put := func(obj any) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		e := objectEntry(u.Object)
		o.pool.Put(originCluster, e)
		o.log.Info("Override object seen", "source", e.Source, "resourceVersion", u.GetResourceVersion())
	}
	_, err := inf.For(OverrideResource).AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: put,
		UpdateFunc: func(old, obj any) {
			// A resync hands over the object unchanged: nothing to verify again.
			if before, ok := old.(*unstructured.Unstructured); ok {
				if n, ok := obj.(*unstructured.Unstructured); ok && before.GetResourceVersion() == n.GetResourceVersion() {
					return
				}
			}
			put(obj)
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if u, ok := obj.(*unstructured.Unstructured); ok {
				source := objectSource(u.Object)
				o.pool.Delete(originCluster, source)
				o.log.Info("Override object deleted", "source", source)
			}
		},
	})
	return err
}

// objectSource names an Override object in logs and in the pool.
func objectSource(obj map[string]any) string {
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if ns, _ := meta["namespace"].(string); ns != "" {
		name = ns + "/" + name
	}
	return "Override " + name
}

// objectEntry turns an Override object, as the apiserver returns it, into a
// pool entry. Its apiVersion, kind, metadata.name, spec and signatures are
// read as an override file is (strictly); whatever else the apiserver or
// kubectl added to its metadata (uid, resourceVersion, annotations) is
// dropped, and status is never read.
func objectEntry(obj map[string]any) overrides.Entry {
	meta, _ := obj["metadata"].(map[string]any)
	doc := map[string]any{"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": map[string]any{"name": meta["name"]}, "spec": obj["spec"]}
	if s, ok := obj["signatures"]; ok {
		doc["signatures"] = s
	}
	e := overrides.Entry{Source: objectSource(obj)}
	data, err := json.Marshal(doc)
	if err != nil {
		e.Err = err
		return e
	}
	e.Doc, e.Err = overrides.Parse(data)
	return e
}
