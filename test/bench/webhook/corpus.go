package main

import (
	"encoding/json"
	"fmt"
)

// corpus builds n AdmissionReview bodies, Pods and Deployments, half
// compliant with the restricted Pod Security Standard and half violating it
// in one of several ways, with the labels, annotations, env, probes and
// volumes of real workloads (3 to 6 KiB each).
func corpus(n int, namespace string) ([][]byte, error) {
	violations := []func(spec map[string]any){
		func(s map[string]any) { container(s, 0)["securityContext"].(map[string]any)["privileged"] = true },
		func(s map[string]any) { s["hostNetwork"] = true },
		func(s map[string]any) { container(s, 0)["securityContext"].(map[string]any)["runAsUser"] = 0 },
		func(s map[string]any) { delete(container(s, 0)["securityContext"].(map[string]any), "capabilities") },
		func(s map[string]any) {
			s["volumes"] = append(s["volumes"].([]any), map[string]any{"name": "host", "hostPath": map[string]any{"path": "/var/run"}})
		},
		func(s map[string]any) {
			delete(container(s, 0)["securityContext"].(map[string]any), "allowPrivilegeEscalation")
		},
	}
	out := make([][]byte, 0, n)
	for i := range n {
		containers := 1 + i%3
		spec := podSpec(i, containers)
		if i%2 == 1 {
			violations[(i/2)%len(violations)](spec)
		}
		name := fmt.Sprintf("app-%d", i)
		var object map[string]any
		var kind, group, resource string
		if i%4 < 2 {
			kind, group, resource = "Pod", "", "pods"
			object = map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta(name, namespace, i), "spec": spec}
		} else {
			kind, group, resource = "Deployment", "apps", "deployments"
			object = map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name, namespace, i),
				"spec": map[string]any{
					"replicas": 3,
					"selector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": name}},
					"template": map[string]any{"metadata": meta(name, "", i), "spec": spec},
				},
			}
		}
		version := "v1"
		review := map[string]any{
			"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
			"request": map[string]any{
				"uid":       fmt.Sprintf("00000000-0000-0000-0000-%012d", i),
				"kind":      map[string]any{"group": group, "version": version, "kind": kind},
				"resource":  map[string]any{"group": group, "version": version, "resource": resource},
				"name":      name,
				"namespace": namespace,
				"operation": "CREATE",
				"userInfo":  map[string]any{"username": "system:serviceaccount:ci:deployer", "groups": []any{"system:serviceaccounts", "system:authenticated"}},
				"object":    object,
				"dryRun":    false,
			},
		}
		b, err := json.Marshal(review)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func container(spec map[string]any, i int) map[string]any {
	return spec["containers"].([]any)[i].(map[string]any)
}

func meta(name, namespace string, i int) map[string]any {
	m := map[string]any{
		"name": name,
		"labels": map[string]any{
			"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop", "app.kubernetes.io/version": "1.4.2",
			"team": "payments", "tier": []string{"frontend", "backend", "worker"}[i%3],
		},
		"annotations": map[string]any{
			"deployment.kubernetes.io/revision": "7",
			"prometheus.io/scrape":              "true",
			"prometheus.io/port":                "9090",
			"kubectl.kubernetes.io/restartedAt": "2026-11-20T10:00:00Z",
		},
	}
	if namespace != "" {
		m["namespace"] = namespace
	}
	return m
}

func podSpec(i, containers int) map[string]any {
	cs := make([]any, containers)
	for c := range containers {
		env := make([]any, 10)
		for e := range env {
			env[e] = map[string]any{"name": fmt.Sprintf("SETTING_%d", e), "value": fmt.Sprintf("value-%d-%d", i, e)}
		}
		cs[c] = map[string]any{
			"name":  fmt.Sprintf("c%d", c),
			"image": fmt.Sprintf("ghcr.io/charter-dev/app-%d:1.4.%d", c, i%10),
			"ports": []any{map[string]any{"name": "http", "containerPort": 8080 + c}},
			"env":   env,
			"resources": map[string]any{
				"requests": map[string]any{"cpu": "100m", "memory": "128Mi"},
				"limits":   map[string]any{"cpu": "500m", "memory": "256Mi"},
			},
			"livenessProbe":  map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": 8080 + c}, "periodSeconds": 10},
			"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/readyz", "port": 8080 + c}, "periodSeconds": 5},
			"securityContext": map[string]any{
				"allowPrivilegeEscalation": false,
				"readOnlyRootFilesystem":   true,
				"capabilities":             map[string]any{"drop": []any{"ALL"}},
			},
			"volumeMounts": []any{map[string]any{"name": "tmp", "mountPath": "/tmp"}, map[string]any{"name": "config", "mountPath": "/etc/app"}},
		}
	}
	return map[string]any{
		"serviceAccountName": "app",
		"securityContext": map[string]any{
			"runAsNonRoot": true, "runAsUser": 10001, "fsGroup": 10001,
			"seccompProfile": map[string]any{"type": "RuntimeDefault"},
		},
		"containers": cs,
		"volumes": []any{
			map[string]any{"name": "tmp", "emptyDir": map[string]any{}},
			map[string]any{"name": "config", "configMap": map[string]any{"name": "app-config"}},
		},
	}
}
