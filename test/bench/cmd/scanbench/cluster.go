package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/charter-dev/charter/test/bench"
	"github.com/charter-dev/charter/test/e2e/cluster"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// clusterScan starts the e2e control plane (kube-apiserver + etcd from
// bin/), creates n Pods in one namespace, half of them privileged, and
// measures `charter audit scan` reading them back through paginated lists.
func clusterScan(charterBin, bundle string, n int) (measurement, error) {
	root, err := cluster.Root()
	if err != nil {
		return measurement{}, err
	}
	dir, err := os.MkdirTemp("", "charter-scanbench-cluster-")
	if err != nil {
		return measurement{}, err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	c, err := cluster.Start(ctx, root, dir)
	if err != nil {
		return measurement{}, fmt.Errorf("start the control plane (make e2e-tools builds it): %w", err)
	}
	defer c.Stop()
	cfg := c.RestConfig()
	cfg.QPS, cfg.Burst = 500, 1000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return measurement{}, err
	}
	const ns = "scanbench"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return measurement{}, err
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				priv := i%2 == 0
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%05d", i), Namespace: ns, Labels: map[string]string{"app": "bench"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.9",
						SecurityContext: &corev1.SecurityContext{Privileged: &priv}}}}}
				if _, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return measurement{}, fmt.Errorf("create pods: %w", err)
	default:
	}
	fmt.Printf("cluster: %d Pods created in %.1f s\n", n, time.Since(start).Seconds())
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := c.WriteKubeconfig(kubeconfig); err != nil {
		return measurement{}, err
	}
	r, err := bench.RunCharter(charterBin, "audit", "scan", "--bundle", bundle, "--kubeconfig", kubeconfig, "-n", ns, "-o", "json")
	m := measurement{Run: r, name: "charter audit scan --kubeconfig (e2e apiserver)", size: n}
	if err != nil {
		return m, err
	}
	if m.Objects != n {
		return m, fmt.Errorf("the cluster scan read %d of %d Pods", m.Objects, n)
	}
	return m, nil
}
