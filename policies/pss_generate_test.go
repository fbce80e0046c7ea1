package policies

import (
	"fmt"
	"math/rand/v2"
)

// pssAbsent marks a field the generator leaves out.
var pssAbsent = &struct{}{}

// pssGen generates pods that set every field the Pod Security checks read, to
// valid and invalid values, deterministically from a seed. bad is the chance
// that a field takes an invalid value; most pods stay close to compliant so
// that allowed and denied decisions are both common at both levels.
type pssGen struct {
	r   *rand.Rand
	bad float64
}

func newPSSGen(seed uint64) *pssGen {
	return &pssGen{r: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// choose returns one of good, or (with probability g.bad) one of bad.
func (g *pssGen) choose(good, bad []any) any {
	if len(bad) > 0 && (len(good) == 0 || g.r.Float64() < g.bad) {
		return bad[g.r.IntN(len(bad))]
	}
	return good[g.r.IntN(len(good))]
}

func (g *pssGen) chance(p float64) bool { return g.r.Float64() < p }

// pssSet stores v under k unless it is pssAbsent.
func pssSet(m map[string]any, k string, v any) {
	if v != pssAbsent {
		m[k] = v
	}
}

// subset returns a random sub-list of items (possibly empty).
func (g *pssGen) subset(items []any, max int) []any {
	n := g.r.IntN(max + 1)
	out := make([]any, 0, n)
	for range n {
		out = append(out, items[g.r.IntN(len(items))])
	}
	return out
}

var (
	pssDefaultCaps = []any{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
	pssBadCaps     = []any{"SYS_ADMIN", "NET_RAW", "ALL", "BPF", "", "chown", "CAP_CHOWN"}
	pssSafeSysctls = []any{
		"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
		"net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
		"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem",
		"net.ipv4.tcp_wmem", "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat",
	}
	pssBadSysctls = []any{"kernel.msgmax", "net.core.somaxconn", "vm.swappiness", "net.ipv4.tcp_rmem.x", "", "kernel.shm_rmid_forced "}
	// Volume sources: allowed under restricted, and the restricted ones.
	pssGoodVolumes = []string{"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"}
	pssBadVolumes  = []string{"hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
		"flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
		"photonPersistentDisk", "portworxVolume", "scaleIO", "storageos"}
)

// seccomp and appArmor profiles: absent, null, valid, invalid, or with no type.
func (g *pssGen) profile(valid, invalid []any) any {
	v := g.choose(append([]any{pssAbsent, pssAbsent, nil}, valid...), append([]any{"{}", "null-type"}, invalid...))
	switch v {
	case pssAbsent, nil:
		return v
	case "{}":
		return map[string]any{}
	case "null-type":
		return map[string]any{"type": nil}
	}
	p := map[string]any{"type": v}
	if v == "Localhost" {
		p["localhostProfile"] = "profiles/p.json"
	}
	return p
}

func (g *pssGen) seLinux() any {
	if g.chance(0.6) {
		return pssAbsent
	}
	o := map[string]any{}
	pssSet(o, "type", g.choose([]any{pssAbsent, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t", nil}, []any{"spc_t", "unconfined_t", "container_x", "Container_t"}))
	pssSet(o, "user", g.choose([]any{pssAbsent, "", nil}, []any{"system_u", "root"}))
	pssSet(o, "role", g.choose([]any{pssAbsent, "", nil}, []any{"system_r", "object_r"}))
	pssSet(o, "level", g.choose([]any{pssAbsent, "s0:c1,c2"}, nil))
	return o
}

// securityContext of a container; restricted-compliant unless bad picks say otherwise.
func (g *pssGen) containerSecurityContext() any {
	switch {
	case g.chance(g.bad * 0.3):
		return pssAbsent
	case g.chance(g.bad * 0.1):
		return nil
	case g.chance(g.bad * 0.1):
		return map[string]any{}
	}
	sc := map[string]any{}
	pssSet(sc, "privileged", g.choose([]any{pssAbsent, false, nil}, []any{true}))
	pssSet(sc, "allowPrivilegeEscalation", g.choose([]any{false}, []any{pssAbsent, true, nil}))
	switch {
	case g.chance(g.bad * 0.2):
		pssSet(sc, "capabilities", g.choose(nil, []any{pssAbsent, nil, map[string]any{}}))
	default:
		caps := map[string]any{}
		drop := []any{"ALL"}
		if g.chance(g.bad) {
			drop = g.subset([]any{"NET_RAW", "all", "SYS_ADMIN", "ALL "}, 2)
		}
		if g.chance(0.3) {
			drop = append(drop, "NET_RAW")
		}
		pssSet(caps, "drop", g.choose([]any{drop}, []any{pssAbsent, nil}))
		add := []any{}
		if g.chance(0.3) {
			add = append(add, "NET_BIND_SERVICE")
		}
		if g.chance(g.bad) {
			add = append(add, g.subset(pssDefaultCaps, 2)...)
		}
		if g.chance(g.bad) {
			add = append(add, g.subset(pssBadCaps, 2)...)
		}
		pssSet(caps, "add", g.choose([]any{pssAbsent, add}, []any{nil}))
		sc["capabilities"] = caps
	}
	pssSet(sc, "procMount", g.choose([]any{pssAbsent, "Default", nil}, []any{"Unmasked", "", "default"}))
	pssSet(sc, "runAsNonRoot", g.choose([]any{pssAbsent, pssAbsent, true, nil}, []any{false}))
	pssSet(sc, "runAsUser", g.choose([]any{pssAbsent, 1000, 65534, nil}, []any{0}))
	pssSet(sc, "seccompProfile", g.profile([]any{"RuntimeDefault", "Localhost"}, []any{"Unconfined", "", "runtime/default"}))
	pssSet(sc, "appArmorProfile", g.profile([]any{"RuntimeDefault", "Localhost"}, []any{"Unconfined", "", "runtime/default"}))
	pssSet(sc, "seLinuxOptions", g.seLinux())
	if g.chance(0.2) {
		pssSet(sc, "windowsOptions", map[string]any{"hostProcess": g.choose([]any{false, nil}, []any{true})})
	}
	return sc
}

// handler is a probe or lifecycle handler, maybe naming a host.
func (g *pssGen) handler(probe bool) any {
	if g.chance(0.6) {
		return pssAbsent
	}
	host := func() any { return g.choose([]any{pssAbsent, "", nil}, []any{"10.0.0.1", "example.com", "localhost"}) }
	h := map[string]any{}
	switch g.r.IntN(3) {
	case 0:
		get := map[string]any{"path": "/healthz", "port": 8080}
		pssSet(get, "host", host())
		h["httpGet"] = get
	case 1:
		tcp := map[string]any{"port": 8080}
		pssSet(tcp, "host", host())
		h["tcpSocket"] = tcp
	default:
		h["exec"] = map[string]any{"command": []any{"true"}}
	}
	if probe {
		h["periodSeconds"] = 10
	}
	return h
}

func (g *pssGen) container(name string, ephemeral bool) map[string]any {
	c := map[string]any{"name": name, "image": "registry.example/" + name + ":1"}
	pssSet(c, "securityContext", g.containerSecurityContext())
	if ephemeral {
		c["targetContainerName"] = "c0"
	}
	if g.chance(0.4) {
		var ports []any
		for range 1 + g.r.IntN(2) {
			p := map[string]any{"containerPort": 8000 + g.r.IntN(100)}
			pssSet(p, "hostPort", g.choose([]any{pssAbsent, 0}, []any{8080, 1}))
			ports = append(ports, p)
		}
		c["ports"] = ports
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
		pssSet(c, probe, g.handler(true))
	}
	if g.chance(0.3) {
		lc := map[string]any{}
		pssSet(lc, "postStart", g.handler(false))
		pssSet(lc, "preStop", g.handler(false))
		c["lifecycle"] = lc
	}
	return c
}

func (g *pssGen) volume(i int) map[string]any {
	v := map[string]any{"name": fmt.Sprintf("v%d", i)}
	source := func(kind string) any {
		switch kind {
		case "hostPath":
			return map[string]any{"path": "/var/lib"}
		case "emptyDir":
			return map[string]any{}
		case "configMap":
			return map[string]any{"name": "cfg"}
		case "secret":
			return map[string]any{"secretName": "cfg"}
		}
		return map[string]any{}
	}
	switch {
	case g.chance(g.bad * 0.1):
		// no source at all: an unknown type
	case g.chance(g.bad * 0.1):
		v["hostPath"] = nil
	default:
		if g.chance(g.bad) {
			k := pssBadVolumes[g.r.IntN(len(pssBadVolumes))]
			v[k] = source(k)
		}
		if !g.chance(g.bad) || len(v) == 1 {
			k := pssGoodVolumes[g.r.IntN(len(pssGoodVolumes))]
			v[k] = source(k)
		}
	}
	return v
}

var pssBadnesses = []float64{0, 0, 0.01, 0.03, 0.08, 0.2, 0.5}

// pod returns one generated pod.
func (g *pssGen) pod(i int) map[string]any {
	g.bad = pssBadnesses[g.r.IntN(len(pssBadnesses))]
	meta := map[string]any{"name": fmt.Sprintf("gen-%d", i), "namespace": "default"}
	spec := map[string]any{}
	for _, f := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		pssSet(spec, f, g.choose([]any{pssAbsent, pssAbsent, false}, []any{true}))
	}
	pssSet(spec, "hostUsers", g.choose([]any{pssAbsent, pssAbsent, true, false, nil}, nil))
	if g.chance(0.25) {
		spec["os"] = map[string]any{"name": g.choose([]any{"linux", "windows"}, nil)}
	}
	psc := map[string]any{}
	pssSet(psc, "runAsNonRoot", g.choose([]any{true, true, pssAbsent, nil}, []any{false}))
	pssSet(psc, "runAsUser", g.choose([]any{pssAbsent, 1000, nil}, []any{0}))
	pssSet(psc, "seccompProfile", g.profile([]any{"RuntimeDefault", "RuntimeDefault", "Localhost"}, []any{"Unconfined", ""}))
	pssSet(psc, "appArmorProfile", g.profile([]any{"RuntimeDefault", "Localhost"}, []any{"Unconfined", ""}))
	pssSet(psc, "seLinuxOptions", g.seLinux())
	if g.chance(0.15) {
		wo := map[string]any{}
		pssSet(wo, "hostProcess", g.choose([]any{false, nil, pssAbsent}, []any{true}))
		psc["windowsOptions"] = wo
	}
	if g.chance(0.3) {
		var sysctls []any
		for range 1 + g.r.IntN(3) {
			s := map[string]any{"value": "1"}
			pssSet(s, "name", g.choose(pssSafeSysctls, append([]any{pssAbsent}, pssBadSysctls...)))
			sysctls = append(sysctls, s)
		}
		psc["sysctls"] = sysctls
	}
	pssSet(spec, "securityContext", g.choose([]any{psc}, []any{pssAbsent, nil, map[string]any{}}))

	var names []string
	containers := func(field, prefix string, min, max int) {
		n := min + g.r.IntN(max-min+1)
		if n == 0 {
			return
		}
		list := make([]any, n)
		for j := range list {
			name := fmt.Sprintf("%s%d", prefix, j)
			names = append(names, name)
			list[j] = g.container(name, field == "ephemeralContainers")
		}
		spec[field] = list
	}
	containers("containers", "c", 1, 3)
	containers("initContainers", "i", 0, 2)
	if g.chance(0.3) {
		containers("ephemeralContainers", "e", 1, 1)
	}
	if g.chance(0.6) {
		var vols []any
		for j := range 1 + g.r.IntN(3) {
			vols = append(vols, g.volume(j))
		}
		spec["volumes"] = vols
	}
	if g.chance(0.5) {
		ann := map[string]any{"team": "a"}
		for range 1 + g.r.IntN(2) {
			key := "container.apparmor.security.beta.kubernetes.io/" + names[g.r.IntN(len(names))]
			if g.chance(0.1) {
				key = "container.apparmor.security.beta.kubernetes.io/x.y"
			}
			ann[key] = g.choose([]any{"", "runtime/default", "localhost/profile", "localhost/"},
				[]any{"unconfined", "localhost", "runtime/default/", "Runtime/default", "docker/default", "localhost\n/x"})
		}
		if g.chance(0.2) {
			ann["seccomp.security.alpha.kubernetes.io/pod"] = g.choose([]any{"runtime/default"}, []any{"unconfined"})
		}
		meta["annotations"] = ann
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
}
