package engine

import (
	"context"
	"testing"
)

// BenchmarkDecide measures one decision on a realistic Deployment with the
// restricted Pod Security charter (baseline included) and with anti-delos.
func BenchmarkDecide(b *testing.B) {
	deploy := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "shop", "labels": map[string]any{"app.kubernetes.io/name": "web", "team": "shop"}},
		"spec": map[string]any{"replicas": 3, "template": map[string]any{
			"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/name": "web", "team": "shop"}},
			"spec": map[string]any{
				"automountServiceAccountToken": false,
				"securityContext":              map[string]any{"runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
				"containers": []any{
					map[string]any{"name": "app", "image": "ghcr.io/charter-dev/web:1.2.3", "ports": []any{map[string]any{"containerPort": 8080}},
						"resources":       map[string]any{"requests": map[string]any{"cpu": "100m", "memory": "128Mi"}, "limits": map[string]any{"cpu": "1", "memory": "256Mi"}},
						"securityContext": map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": map[string]any{"drop": []any{"ALL"}}}},
					map[string]any{"name": "sidecar", "image": "ghcr.io/charter-dev/proxy:2.0.0",
						"resources":       map[string]any{"requests": map[string]any{"cpu": "50m", "memory": "64Mi"}, "limits": map[string]any{"cpu": "200m", "memory": "128Mi"}},
						"securityContext": map[string]any{"allowPrivilegeEscalation": false, "privileged": true}},
				},
			},
		}},
	}
	for _, c := range []struct{ name, path string }{
		{"restricted", "../policies/pod-security-restricted.yaml"},
		{"anti-delos", "../policies/anti-delos.yaml"},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := load(b, c.path)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Decide(ctx, deploy); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
