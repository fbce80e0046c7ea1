package engine

import (
	"fmt"
	"maps"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// WithClusterData gives the engine the objects of the cluster that cluster
// queries look among: doc is data.charter.cluster, kind -> namespace
// ("" for cluster-scoped objects) -> name -> object (see ClusterDocument).
// Both paths read it: OPA as that data document, the native evaluator
// directly.
func WithClusterData(doc map[string]any) Option {
	return func(o *options) { o.cluster = doc }
}

// ClusterDocument arranges objects as data.charter.cluster. It keeps what
// a cluster query may read and drops what no policy should see: managed
// fields, and the data of Secrets. An object without a kind or a name is
// left out.
func ClusterDocument(objects []map[string]any) map[string]any {
	doc := map[string]any{}
	for _, obj := range objects {
		kind, _ := obj["kind"].(string)
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		if kind == "" || name == "" {
			continue
		}
		ns, _ := meta["namespace"].(string)
		kept := maps.Clone(obj)
		m := maps.Clone(meta)
		delete(m, "managedFields")
		kept["metadata"] = m
		if kind == "Secret" {
			delete(kept, "data")
			delete(kept, "stringData")
		}
		byNS, _ := doc[kind].(map[string]any)
		if byNS == nil {
			byNS = map[string]any{}
			doc[kind] = byNS
		}
		byName, _ := byNS[ns].(map[string]any)
		if byName == nil {
			byName = map[string]any{}
			byNS[ns] = byName
		}
		byName[name] = kept
	}
	return doc
}

// withCluster returns a copy of the OPA bundle whose data holds
// data.charter.cluster = doc.
func withCluster(b *bundle.Bundle, doc map[string]any) (*bundle.Bundle, error) {
	out := *b
	out.Data = maps.Clone(b.Data)
	if out.Data == nil {
		out.Data = map[string]any{}
	}
	ch, ok := out.Data["charter"].(map[string]any)
	if !ok && out.Data["charter"] != nil {
		return nil, fmt.Errorf("bundle data.charter is %T, not an object", out.Data["charter"])
	}
	ch = maps.Clone(ch)
	if ch == nil {
		ch = map[string]any{}
	}
	ch["cluster"] = doc
	out.Data["charter"] = ch
	return &out, nil
}

// clusterValue is doc as an OPA value for the native evaluator.
func clusterValue(doc map[string]any) (ast.Value, error) {
	v, err := ast.InterfaceToValue(doc)
	if err != nil {
		return nil, fmt.Errorf("cluster data: %w", err)
	}
	return v, nil
}
