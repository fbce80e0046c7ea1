// Package bench generates the inputs of charter's performance measurements:
// large charters for the compiler and realistic manifests for charter eval
// against conftest. The benchmarks live in bench_test.go; the side-by-side
// report against conftest is cmd/evalbench (make bench). CPUTime and
// LoadAverage put the timings of every bench command in context.
package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// articleShapes are the article bodies the generated charter cycles through:
// every construct of the language the compiler has to translate. %[1]d is a
// per-article number, used to vary values so no two articles are equal.
var articleShapes = []string{
	// foreach over containers, a boolean leaf
	`    match: {kinds: [Pod]}
    foreach: containers
    violation:
      any:
      - {path: container.securityContext.privileged, op: equals, value: true}
      - {path: container.securityContext.allowPrivilegeEscalation, op: notEquals, value: false}
    message: "container {{container.name}} may escalate privileges (%[1]d); set allowPrivilegeEscalation: false"`,
	// quantities
	`    action: warn
    match: {kinds: [Pod]}
    foreach: containers
    violation:
      any:
      - {path: container.resources.limits.memory, op: absent}
      - {path: container.resources.limits.memory, op: gt, value: %[1]dMi}
      - {path: container.resources.requests.cpu, op: gte, value: %[1]dm}
    message: "container {{container.name}} memory limit {{value}} at {{field}}"`,
	// regular expressions and globs over images
	`    match: {kinds: [Pod], operations: [CREATE, UPDATE]}
    foreach: containers
    violation:
      all:
      - {path: container.image, op: matches, value: '^registry-%[1]d\.example\.com/.*:latest$'}
      - not: {path: container.image, op: glob, value: "registry-%[1]d.example.com/approved/*"}
    message: "container {{container.name}} uses {{value}}; pin a tag"`,
	// pod-level fields, lists, in / notIn
	`    match: {kinds: [Pod], excludeNamespaces: [ns-%[1]d]}
    violation:
      any:
      - {path: pod.spec.hostNetwork, op: equals, value: true}
      - {path: 'pod.spec.volumes[*].hostPath.path', op: prefix, value: /var/lib/%[1]d}
      - {path: 'pod.spec.securityContext.sysctls[*].name', op: notIn, value: [kernel.shm_rmid_forced, net.ipv4.ip_local_port_range]}
    message: "pod {{object.metadata.name}} uses host resources at {{field}}"`,
	// labels, annotations by glob, nested not/all
	`    severity: low
    match: {kinds: [Deployment, StatefulSet, Service]}
    violation:
      any:
      - {path: 'object.metadata.labels["team-%[1]d"]', op: absent}
      - all:
        - {path: 'object.metadata.annotations["example.com/*"]', op: exists}
        - not: {path: object.metadata.labels.owner, op: in, value: [platform, security, app-%[1]d]}
    message: "{{object.kind}} {{object.metadata.name}} lacks ownership labels"`,
	// raw rego hatch
	`    match: {kinds: [Service]}
    rego: |
      resource.spec.type == "NodePort"
      count(resource.spec.ports) > %[1]d
    message: "service {{object.metadata.name}} exposes NodePorts"`,
}

// Charter returns a charter of n generated articles.
func Charter(n int) []byte {
	var b strings.Builder
	b.WriteString(`apiVersion: charter.dev/v1
kind: Charter
metadata: {name: bench, version: 1.0.0}
spec:
  defaults: {action: deny, severity: high}
  scope: {excludeNamespaces: [kube-system]}
  articles:
`)
	for i := range n {
		fmt.Fprintf(&b, "  - id: BENCH-%04d\n    title: Generated article %d\n", i, i)
		fmt.Fprintf(&b, articleShapes[i%len(articleShapes)], i+1)
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// Manifests writes n realistic Pods and Deployments as YAML files under dir,
// one object per file, about half of them compliant with the restricted Pod
// Security Standard and the rest violating one or two of its checks. The
// corpus depends only on seed. It returns the number of objects written that
// were generated to violate.
func Manifests(dir string, n int, seed uint64) (violating int, err error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range n {
		var doc string
		bad := r.IntN(2) == 0
		pod := podSpec(r, bad)
		name := fmt.Sprintf("app-%05d", i)
		ns := []string{"default", "payments", "search", "web", "batch"}[r.IntN(5)]
		if r.IntN(3) == 0 {
			doc = fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: %s
  labels: {app: %s, team: team-%d}
spec:
%s`, name, ns, name, r.IntN(20), indent(pod, 2))
		} else {
			doc = fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
  namespace: %s
  labels: {app: %s, team: team-%d}
spec:
  replicas: %d
  selector:
    matchLabels: {app: %s}
  template:
    metadata:
      labels: {app: %s}
    spec:
%s`, name, ns, name, r.IntN(20), 1+r.IntN(5), name, name, indent(pod, 6))
		}
		if bad {
			violating++
		}
		p := filepath.Join(dir, fmt.Sprintf("%03d", i/500), name+".yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			return 0, err
		}
	}
	return violating, nil
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// podSpec is a pod spec with one to three containers and an optional init
// container; compliant ones meet the restricted profile.
func podSpec(r *rand.Rand, bad bool) string {
	var b strings.Builder
	b.WriteString("securityContext:\n  runAsNonRoot: true\n  seccompProfile: {type: RuntimeDefault}\n")
	flaws := map[string]bool{}
	if bad {
		all := []string{"privileged", "escalation", "root", "caps", "hostNetwork", "hostPath", "hostPort", "seccomp", "procMount"}
		for range 1 + r.IntN(2) {
			flaws[all[r.IntN(len(all))]] = true
		}
	}
	if flaws["hostNetwork"] {
		b.WriteString("hostNetwork: true\n")
	}
	if r.IntN(4) == 0 {
		b.WriteString("initContainers:\n")
		b.WriteString(container(r, "init", flaws, false))
	}
	b.WriteString("containers:\n")
	for c := range 1 + r.IntN(3) {
		b.WriteString(container(r, fmt.Sprintf("c%d", c), flaws, c == 0))
	}
	b.WriteString("volumes:\n- name: cache\n  emptyDir: {}\n")
	if flaws["hostPath"] {
		b.WriteString("- name: host\n  hostPath: {path: /var/lib/data}\n")
	}
	return b.String()
}

func container(r *rand.Rand, name string, flaws map[string]bool, first bool) string {
	images := []string{"registry.example.com/web/frontend:1.4.2", "registry.example.com/api/orders:2.0.1", "docker.io/library/nginx:1.27", "ghcr.io/example/worker@sha256:3b8f2c1d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff0"}
	var b strings.Builder
	fmt.Fprintf(&b, "- name: %s\n  image: %s\n", name, images[r.IntN(len(images))])
	fmt.Fprintf(&b, "  ports:\n  - containerPort: %d\n", 8000+r.IntN(1000))
	if first && flaws["hostPort"] {
		b.WriteString("    hostPort: 8080\n")
	}
	fmt.Fprintf(&b, "  resources:\n    requests: {cpu: %dm, memory: %dMi}\n    limits: {cpu: %dm, memory: %dMi}\n",
		100+r.IntN(400), 128+r.IntN(512), 500+r.IntN(1500), 256+r.IntN(1024))
	b.WriteString("  securityContext:\n")
	switch {
	case first && flaws["escalation"]:
		b.WriteString("    allowPrivilegeEscalation: true\n")
	default:
		b.WriteString("    allowPrivilegeEscalation: false\n")
	}
	if first && flaws["privileged"] {
		b.WriteString("    privileged: true\n")
	}
	if first && flaws["root"] {
		b.WriteString("    runAsNonRoot: false\n    runAsUser: 0\n")
	}
	if first && flaws["caps"] {
		b.WriteString("    capabilities: {drop: [ALL], add: [NET_ADMIN, SYS_TIME]}\n")
	} else {
		b.WriteString("    capabilities: {drop: [ALL]}\n")
	}
	if first && flaws["seccomp"] {
		b.WriteString("    seccompProfile: {type: Unconfined}\n")
	}
	if first && flaws["procMount"] {
		b.WriteString("    procMount: Unmasked\n")
	}
	if r.IntN(2) == 0 {
		b.WriteString("    readOnlyRootFilesystem: true\n")
	}
	return b.String()
}
