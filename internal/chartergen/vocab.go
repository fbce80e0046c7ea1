package chartergen

// The vocabulary charters and objects share: the paths a generated charter
// reads are the fields a generated object sets, so most leaves meet a value.

// shape lists the paths (in charter syntax, without the root) worth reading
// below a root or a foreach element; "" is the root itself.
type shape []string

var (
	containerShape = shape{"", ".name", ".image", ".imagePullPolicy", ".args[0]", ".args[1]", ".args[*]",
		".securityContext", ".securityContext.privileged", ".securityContext.runAsUser", ".securityContext.runAsGroup",
		".securityContext.allowPrivilegeEscalation", ".securityContext.capabilities.add[*]", ".securityContext.capabilities.drop[0]",
		".resources.limits.memory", ".resources.limits.cpu", ".resources.requests.cpu", ".resources.requests.memory",
		".resources.limits[*]", `.resources["limits"]["memory"]`, ".ports[*].hostPort", ".ports[0].containerPort", ".ports[*]",
		".env[*].name", ".env[*].value", ".stdin"}
	volumeShape = shape{"", ".name", ".hostPath", ".hostPath.path", ".hostPath.type", ".emptyDir", ".emptyDir.medium", ".configMap.name"}
	podShape    = shape{"", ".metadata.name", ".metadata.labels.tier", `.metadata.labels["app.kubernetes.io/name"]`, ".metadata.labels[*]",
		`.metadata.annotations["example.com/*"]`, `.metadata.annotations["example.com/allow-privileged"]`, ".spec", ".spec.hostNetwork",
		".spec.hostPID", ".spec.containers[*].image", ".spec.containers[0].name", ".spec.containers[1].securityContext.privileged",
		".spec.initContainers[*].image", ".spec.volumes[*].hostPath.path", ".spec.securityContext.runAsUser",
		".spec.securityContext.runAsNonRoot", ".spec.containers[*].ports[*].hostPort", ".spec.nodeName"}
	objectShape = shape{"", ".kind", ".apiVersion", ".metadata.name", ".metadata.namespace", ".metadata.labels.tier", ".metadata.labels[*]",
		`.metadata.labels["app.kubernetes.io/name"]`, `.metadata.annotations["debug.example.com/*"]`, ".metadata.annotations[*]",
		".spec.type", ".spec.ports[*].port", ".spec.ports[0].nodePort", ".spec.replicas", ".data.password", ".data[*]",
		`.data["app.properties"]`, `.data["pass*"]`, ".spec.rules[*].host", ".spec.tls[*].hosts[*]",
		".spec.template.spec.containers[*].image", ".spec.template.metadata.labels.tier", ".stringData[*]"}
	requestShape = shape{"", ".operation", ".namespace", ".userInfo.username", ".userInfo.groups[*]", ".userInfo.groups[0]",
		".object.metadata.name", ".oldObject.metadata.labels.tier", ".oldObject.spec.containers[*].image", ".dryRun",
		".kind.kind", ".subResource", ".object.kind"}
	portShape   = shape{"", ".port", ".nodePort", ".protocol", ".name", ".targetPort", ".containerPort", ".hostPort"}
	ruleShape   = shape{"", ".host", ".http.paths[*].path", ".http.paths[0].backend.service.port.number"}
	scalarShape = shape{""}
)

// foreachPaths are the list paths a foreach may walk, with their elements' shape.
var foreachPaths = []struct {
	path  string
	shape shape
	pod   bool // reads the pod root
}{
	{"object.spec.ports", portShape, false},
	{"object.spec.rules", ruleShape, false},
	{"object.data", scalarShape, false},
	{"object.metadata.labels", scalarShape, false},
	{`object.metadata.annotations["example.com/*"]`, scalarShape, false},
	{"object.spec.tls[*].hosts", scalarShape, false},
	{"object.spec.template.spec.containers", containerShape, false},
	{"object", objectShape, false},
	{"pod.spec.containers", containerShape, true},
	{"pod.spec.initContainers[*]", containerShape, true},
	{"pod.spec.volumes", volumeShape, true},
	{"pod.spec.containers[*].ports", portShape, true},
	{"pod.spec.containers[0].args", scalarShape, true},
}

var (
	podKinds   = []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "PodTemplate", "ReplicationController"}
	otherKinds = []string{"Service", "ConfigMap", "Secret", "Ingress", "Namespace"}
	operations = []string{"CREATE", "UPDATE", "DELETE", "CONNECT"}
	namespaces = []string{"default", "prod", "team-a", "team-ab", "team-b", "kube-system", "sandbox-1", ""}
	nsGlobs    = []string{"team-*", "prod", "kube-*", "*", "sandbox-?", "team-[ab]", "default", "{prod,default}", "team-a?"}
	labelKeys  = []string{"tier", "env", "owner", "legacy", "app.kubernetes.io/name"}
	labelVals  = []string{"web", "prod", "dev", "staging", "db", ""}

	strs = []string{"", "x", "nginx:latest", "ghcr.io/charter-dev/app:1", "docker.io/library/nginx:1.25", "debug-shell",
		"app-tmp", "--insecure", "safe", "true", "0", "500m", "1Gi", "Always", "IfNotPresent", "Never", "NodePort",
		"ClusterIP", "prod", "web", "team-a", "CREATE", "DELETE", "system:admin", "alice", "SYS_ADMIN", "NET_BIND_SERVICE",
		"/var/run/docker.sock", "/etc", "hunter2", "password=1", "ü-ñ", "a.b/c", "example.com"}
	// numbers as the charter writes them (YAML 1.2 core schema).
	numbers    = []string{"0", "1", "-1", "80", "1000", "1024", "0.5", "1.0", "1e3", "65535", "3.25", "-0.5"}
	quantities = []string{"500m", "1Gi", "1G", "2k", "128Mi", "0.25", "1e3", "100n", "1u", "2", "1.5", "512Ki", "1Ei", "0", "+1", "1E3", "2.5Gi"}
	regexes    = []string{"^debug-", ":latest$", "(?i)password", "^$", ".", "[0-9]+", "^(on|off)$", "a|b", `\d`, `^ghcr\.io/`, "(?s).*", "x*", `^\w+$`}
	globs      = []string{"*:latest", "ghcr.io/*", "team-?", "*", "[a-c]*", "{a,b}*", "*.example.com", "debug-*", "", `\*`, "?", "*/*"}
)

// Values objects hold at a field, by the field's name: a leaf on a path that
// ends with the field mostly takes its operand from here, so it fires now
// and then instead of never.
var (
	images         = []string{"nginx:latest", "ghcr.io/charter-dev/app:1", "docker.io/library/nginx:1.25", "debug-shell", "app-tmp", "registry.k8s.io/pause:3.9"}
	containerNames = []string{"app", "debug-shell", "app-tmp", "side-app", "x"}
	objectNames    = []string{"web", "db", "p", "debug-1", ""}
	hosts          = []string{"a.example.com", "b.internal", "x", "*.example.com"}
	users          = []string{"alice", "system:admin", "system:serviceaccount:ci:deployer", ""}
	hostPaths      = []string{"/var/run/docker.sock", "/etc", "/"}
	args           = []string{"--insecure", "-v", "safe", "", "--safe", "x"}
)

var fieldValues = map[string][]any{
	"image": anys(images...), "name": anys(append(append([]string{}, containerNames...), objectNames...)...),
	"imagePullPolicy": anys("Always", "IfNotPresent", "Never"), "type": anys("ClusterIP", "NodePort", "LoadBalancer", "Directory"),
	"operation": anys(operations...), "namespace": anys(namespaces...), "username": anys(users...),
	"host": anys(hosts...), "hosts": anys(hosts...), "path": anys(hostPaths...), "medium": anys("Memory"),
	"tier": anys(labelVals...), "labels": anys(labelVals...), `"app.kubernetes.io/name"`: anys(labelVals...),
	"privileged": {true, false, "true"}, "allowPrivilegeEscalation": {true, false}, "runAsNonRoot": {true, false},
	"hostNetwork": {true, false}, "hostPID": {true, false}, "stdin": {true, false}, "dryRun": {true, false},
	"runAsUser": {0, 1000, -1, 1}, "runAsGroup": {0, 1000}, "hostPort": {80, 443, 0, 8080}, "containerPort": {80, 8080},
	"port": {80, 443, 1024, 65535}, "nodePort": {0, 1, 1024}, "number": {80, 443}, "replicas": {0, 1, -1},
	"memory": anys(quantities...), "cpu": anys(quantities...), "limits": anys(quantities...),
	"add": anys("SYS_ADMIN", "NET_BIND_SERVICE", "NET_ADMIN"), "drop": anys("ALL"),
	"args": anys(args...), "kind": anys(append(append([]string{}, podKinds...), otherKinds...)...),
	"password": anys(strs...), "data": anys(strs...), "groups": anys("system:masters", "dev", "ops"),
	"subResource": anys("status", "exec", "ephemeralcontainers"), "protocol": anys("TCP", "UDP"),
}

func anys(s ...string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
