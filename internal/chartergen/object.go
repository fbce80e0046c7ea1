package chartergen

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
)

// Input returns a random input for the engine: a Kubernetes object (a raw
// manifest) or an AdmissionReview for CREATE, UPDATE, DELETE or CONNECT,
// built from the vocabulary the generated charters read, then randomly
// damaged (wrong types, nulls, missing fields) now and then. Kinds, when
// given, are the kinds the charter matches: most objects are of one of them.
func Input(r *rand.Rand, kinds ...string) map[string]any {
	g := &objectGen{r: r}
	obj := g.object(kinds)
	if g.chance(4) {
		g.mutate(obj, 1+r.IntN(3))
	}
	if g.chance(3) {
		return obj
	}
	return g.review(obj)
}

type objectGen struct{ r *rand.Rand }

func (g *objectGen) chance(n int) bool { return g.r.IntN(n) == 0 }

func (g *objectGen) review(obj map[string]any) map[string]any {
	op := pick(g.r, operations)
	req := map[string]any{"uid": "u-1", "operation": op}
	meta, _ := obj["metadata"].(map[string]any)
	ns := meta["namespace"]
	switch {
	case g.chance(6):
		req["namespace"] = pick(g.r, namespaces)
	case ns != nil:
		req["namespace"] = ns
	}
	switch op {
	case "DELETE":
		req["oldObject"] = obj
		if g.chance(3) {
			req["object"] = nil
		}
	case "UPDATE":
		req["object"] = obj
		old := DeepCopy(obj).(map[string]any)
		if g.chance(3) {
			// Another object of the kind: lists and maps differ element-wise.
			old = g.object([]string{fmtKind(obj["kind"])})
		}
		g.mutate(old, 1+g.r.IntN(2))
		req["oldObject"] = old
		if g.chance(10) {
			req["oldObject"] = pick(g.r, []any{nil, "x", []any{}})
		}
	default:
		req["object"] = obj
	}
	if !g.chance(4) {
		req["userInfo"] = map[string]any{"username": pick(g.r, users), "groups": list(pick(g.r, [][]any{{}, {"system:masters"}, {"dev", "ops"}})...)}
	}
	if g.chance(3) {
		req["dryRun"] = g.chance(2)
	}
	if g.chance(3) {
		req["kind"] = map[string]any{"group": "", "version": "v1", "kind": obj["kind"]}
	}
	if g.chance(5) {
		req["subResource"] = pick(g.r, []string{"status", "exec", "ephemeralcontainers"})
	}
	in := map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}
	if g.chance(15) {
		in["request"] = pick(g.r, []any{nil, "x", []any{}})
	}
	return in
}

func list(items ...any) []any { return append([]any{}, items...) }

func (g *objectGen) object(kinds []string) map[string]any {
	kind := pick(g.r, append(append([]string{}, podKinds...), otherKinds...))
	if len(kinds) > 0 && !g.chance(4) {
		if k := pick(g.r, kinds); k != "*" {
			kind = k
		}
	}
	groups := map[string]string{"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1",
		"Job": "batch/v1", "CronJob": "batch/v1", "Ingress": "networking.k8s.io/v1"}
	apiVersion := "v1"
	if v, ok := groups[kind]; ok {
		apiVersion = v
	}
	if g.chance(12) {
		apiVersion = pick(g.r, []string{"example.com/v1", "v2", "apps/v1beta1", ""})
	}
	obj := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": g.metadata(true)}
	switch kind {
	case "Pod":
		obj["spec"] = g.podSpec()
	case "PodTemplate":
		obj["template"] = g.template()
	case "CronJob":
		obj["spec"] = map[string]any{"schedule": "* * * * *", "jobTemplate": map[string]any{"spec": map[string]any{"template": g.template()}}}
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController":
		obj["spec"] = map[string]any{"replicas": g.number(), "template": g.template()}
	case "Service":
		ports := make([]any, g.r.IntN(3))
		for i := range ports {
			ports[i] = g.some(map[string]func() any{
				"port": g.number, "nodePort": g.number, "protocol": func() any { return pick(g.r, []string{"TCP", "UDP"}) },
				"name": g.str, "targetPort": g.scalar,
			})
		}
		obj["spec"] = map[string]any{"type": pick(g.r, []any{"ClusterIP", "NodePort", "LoadBalancer", nil}), "ports": ports}
	case "ConfigMap", "Secret":
		obj["data"] = g.some(map[string]func() any{"password": g.str, "app.properties": g.str, "passwd": g.str, "x": g.scalar})
		if g.chance(3) {
			obj["stringData"] = map[string]any{"k": g.str()}
		}
	case "Ingress":
		rules := make([]any, g.r.IntN(3))
		for i := range rules {
			rules[i] = map[string]any{"host": pick(g.r, hosts), "http": map[string]any{"paths": list(map[string]any{"path": "/", "backend": map[string]any{"service": map[string]any{"port": map[string]any{"number": g.number()}}}})}}
		}
		obj["spec"] = map[string]any{"rules": rules, "tls": list(map[string]any{"hosts": list(pick(g.r, []any{"a.example.com", "*.example.com", nil}))})}
	}
	return obj
}

func (g *objectGen) metadata(namespaced bool) map[string]any {
	m := map[string]any{"name": pick(g.r, objectNames)}
	if namespaced && !g.chance(6) {
		m["namespace"] = pick(g.r, namespaces)
	}
	if !g.chance(4) {
		labels := map[string]any{}
		for _, k := range some(g.r, labelKeys, 3) {
			labels[k] = pick(g.r, labelVals)
		}
		if g.chance(10) {
			labels["tier"] = pick(g.r, []any{nil, false, 1})
		}
		m["labels"] = labels
	}
	if g.chance(2) {
		m["annotations"] = g.some(map[string]func() any{
			"example.com/allow-privileged": func() any { return pick(g.r, []string{"true", "false"}) },
			"example.com/owner":            g.str, "debug.example.com/trace": g.str, "other": g.str,
		})
	}
	return m
}

func (g *objectGen) template() map[string]any {
	return map[string]any{"metadata": g.metadata(false), "spec": g.podSpec()}
}

func (g *objectGen) podSpec() map[string]any {
	spec := map[string]any{}
	spec["containers"] = g.containers(g.r.IntN(4))
	if g.chance(3) {
		spec["initContainers"] = g.containers(1)
	}
	if g.chance(5) {
		spec["ephemeralContainers"] = g.containers(1)
	}
	if g.chance(2) {
		vols := make([]any, 1+g.r.IntN(2))
		for i := range vols {
			vols[i] = g.volume()
		}
		spec["volumes"] = vols
	}
	for _, k := range []string{"hostNetwork", "hostPID"} {
		if g.chance(3) {
			spec[k] = g.chance(2)
		}
	}
	if g.chance(3) {
		spec["securityContext"] = g.some(map[string]func() any{"runAsUser": g.number, "runAsNonRoot": g.boolish})
	}
	if g.chance(4) {
		spec["nodeName"] = g.str()
	}
	return spec
}

func (g *objectGen) containers(n int) []any {
	out := make([]any, n)
	for i := range out {
		c := map[string]any{"name": pick(g.r, containerNames), "image": pick(g.r, images)}
		if g.chance(2) {
			c["imagePullPolicy"] = pick(g.r, []string{"Always", "IfNotPresent", "Never"})
		}
		if g.chance(3) {
			c["args"] = list(pick(g.r, args), pick(g.r, []any{"--safe", "x", 1}))
		}
		if g.chance(2) {
			sc := g.some(map[string]func() any{
				"privileged": g.boolish, "runAsUser": g.number, "runAsGroup": g.number, "allowPrivilegeEscalation": g.boolish,
			})
			if g.chance(2) {
				sc["capabilities"] = map[string]any{"add": list(some(g.r, []any{"SYS_ADMIN", "NET_BIND_SERVICE", "NET_ADMIN", nil}, 2)...), "drop": list("ALL")}
			}
			c["securityContext"] = sc
		}
		if g.chance(2) {
			c["resources"] = map[string]any{
				"limits":   g.some(map[string]func() any{"memory": g.quantity, "cpu": g.quantity}),
				"requests": g.some(map[string]func() any{"memory": g.quantity, "cpu": g.quantity}),
			}
		}
		if g.chance(3) {
			c["ports"] = list(g.some(map[string]func() any{"containerPort": g.number, "hostPort": g.number}))
		}
		if g.chance(4) {
			c["env"] = list(map[string]any{"name": "PASSWORD", "value": g.str()})
		}
		if g.chance(5) {
			c["stdin"] = g.boolish()
		}
		out[i] = c
	}
	return out
}

func (g *objectGen) volume() map[string]any {
	v := map[string]any{"name": pick(g.r, []string{"data", "logs", "sock"})}
	switch g.r.IntN(3) {
	case 0:
		v["hostPath"] = map[string]any{"path": pick(g.r, hostPaths), "type": "Directory"}
	case 1:
		v["emptyDir"] = pick(g.r, []any{map[string]any{}, map[string]any{"medium": "Memory"}})
	default:
		v["configMap"] = map[string]any{"name": "cfg"}
	}
	return v
}

// some sets a random subset of the fields, in key order (not map order) so
// that a seed always generates the same input.
func (g *objectGen) some(fields map[string]func() any) map[string]any {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if g.chance(2) {
			out[k] = fields[k]()
		}
	}
	return out
}

func (g *objectGen) str() any { return pick(g.r, strs) }

func (g *objectGen) number() any {
	switch g.r.IntN(4) {
	case 0:
		return g.r.IntN(3) - 1
	case 1:
		return pick(g.r, []any{80, 443, 1000, 1024, 8080, 65535})
	case 2:
		return json.Number(pick(g.r, numbers))
	}
	return pick(g.r, []any{0.5, 2.5, int64(1) << 40})
}

func (g *objectGen) quantity() any {
	if g.chance(3) {
		return g.number()
	}
	return pick(g.r, append(append([]string{}, quantities...), "abc", "", "1.5.5", "-1Gi", "0.001m"))
}

func (g *objectGen) boolish() any {
	return pick(g.r, []any{true, false, true, "true", nil})
}

func (g *objectGen) scalar() any {
	switch g.r.IntN(3) {
	case 0:
		return g.number()
	case 1:
		return g.boolish()
	}
	return g.str()
}

// damage are the values mutate writes: type and null edges.
var damage = []any{nil, true, false, 0, 1, -1, 0.5, "", "true", "0", "500m", "2Gi", "1e3", "x", []any{}, []any{nil},
	[]any{"SYS_ADMIN"}, map[string]any{}, map[string]any{"privileged": true}, json.Number("1.0")}

// mutate sets, replaces or deletes random fields at random depths.
func (g *objectGen) mutate(m map[string]any, n int) {
	for range n {
		target := Nested(g.r, m)
		keys := slices.Sorted(maps.Keys(target))
		if len(keys) == 0 {
			continue
		}
		key := pick(g.r, keys)
		if g.chance(5) {
			delete(target, key)
			continue
		}
		target[key] = DeepCopy(pick(g.r, damage))
	}
}

// Nested returns a random map nested in m, directly or in lists, up to four
// levels down (m itself at level 0): where a mutation edits a field.
func Nested(r *rand.Rand, m map[string]any) map[string]any {
	target := m
	for depth := r.IntN(5); depth > 0; depth-- {
		var next []map[string]any
		for _, k := range slices.Sorted(maps.Keys(target)) {
			switch x := target[k].(type) {
			case map[string]any:
				next = append(next, x)
			case []any:
				for _, e := range x {
					if em, ok := e.(map[string]any); ok {
						next = append(next, em)
					}
				}
			}
		}
		if len(next) == 0 {
			break
		}
		target = pick(r, next)
	}
	return target
}

// DeepCopy copies a decoded JSON or YAML value (maps and slices, all the way
// down), so that one input can be mutated and the other kept.
func DeepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = DeepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = DeepCopy(e)
		}
		return l
	}
	return v
}

// fmtKind is a kind name for object, "*" when the object has none.
func fmtKind(k any) string {
	if s, ok := k.(string); ok {
		return s
	}
	return "*"
}
