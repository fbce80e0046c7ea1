/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared definitions of the charter runtime programs: the event record, the
 * maps the agent fills, and the scope check every hook runs first. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define PATH_LEN 256      /* longest path a rule or an event carries, with NUL */
#define ARGS_LEN 128      /* first bytes of argv, NUL separated */
#define MAX_ANCESTORS 16  /* cgroup levels walked for the scope check */
#define MAX_COMPONENTS 32 /* dentries walked when rebuilding a path */
#define SCRATCH_LEN 1024  /* path rebuild buffer: components land in [0,256) */

#define EPERM 1
#define SIGKILL 9
#define AF_INET 2
#define AF_INET6 10
#define O_ACCMODE 3
#define O_RDONLY 0
#define O_RDWR 2
#define O_CREAT 0100
#define O_TRUNC 01000
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define MAX_ALLOW 32      /* allow-list articles per rule set, one bit each */

enum event_kind {
	KIND_EXEC = 1,
	KIND_CONNECT = 2,
	KIND_OPEN = 3,
};

/* What happened to the operation. */
enum verdict {
	VERDICT_AUDIT = 1,   /* rule action audit: reported only */
	VERDICT_MONITOR = 2, /* deny rule, agent in monitor mode: reported only */
	VERDICT_DENIED = 3,  /* deny rule enforced: killed or refused */
	VERDICT_EXEMPT = 4,  /* a verified override exempts the task's pod from the rule: reported only */
};

enum rule_action {
	ACTION_DENY = 1,
	ACTION_AUDIT = 2,
};

enum agent_mode {
	MODE_MONITOR = 0,
	MODE_ENFORCE = 1,
};

/* Which program produced the event, so user space can say which path ran. */
enum hook {
	HOOK_TP_EXEC = 1,    /* tp_btf/sched_process_exec + bpf_send_signal */
	HOOK_CGROUP_CONNECT = 2,
	HOOK_TP_OPENAT = 3,  /* tracepoint syscalls/sys_enter_openat, report only */
	HOOK_LSM_EXEC = 4,
	HOOK_LSM_CONNECT = 5,
	HOOK_LSM_OPEN = 6,
	HOOK_CGROUP_SENDMSG = 7, /* cgroup/sendmsg4 + sendmsg6: unconnected UDP */
	HOOK_LSM_SENDMSG = 8,
};

/* Why a rule matched. */
enum match {
	MATCH_LISTED = 1,      /* exec: the path (resolved, as passed, or the interpreter); connect: the destination */
	MATCH_IDENTITY = 2,    /* device and inode of a listed file */
	MATCH_FILELESS = 3,    /* runtime.exec.denyFileless: no path on a filesystem */
	MATCH_NOT_ALLOWED = 4, /* outside an allow-list */
};

struct event {
	__u64 ts_ns;
	__u64 cgroup_id;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 rule; /* index into the agent's rule table, 1-based */
	__u8 kind;
	__u8 verdict;
	__u8 hook;
	__u8 write;     /* open: the flags ask for write access */
	__u32 flags;    /* open: the open flags */
	__u64 ino;      /* exec: inode number of the executed file */
	__u32 dev;      /* exec: its superblock's device (kernel encoding) */
	__u8 match;     /* enum match */
	__u8 fileless;  /* exec: the file has no path on a filesystem */
	__u8 pad[2];
	__u16 family;   /* connect */
	__u16 port;     /* connect, host order */
	__u8 addr[16];  /* connect, IPv4 as v4-mapped IPv6 */
	char comm[16];
	char path[PATH_LEN];
	char args[ARGS_LEN];
};

/* Value of every rule map: which rule matched and what it asks for. */
struct rule_ref {
	__u32 rule;
	__u32 action;
};

/* LPM key over a NUL-terminated path: an exact entry covers the NUL, a
 * directory entry ends at its trailing slash. */
struct path_key {
	__u32 prefixlen;
	char path[PATH_LEN];
};

/* LPM key over a port and an IPv6 (or v4-mapped) address, 18 bytes of data
 * (the tail padding is never compared). Entries for any
 * port live in net_any with port 0 and are matched on the address only. */
struct net_key {
	__u32 prefixlen;
	__u16 port; /* network order */
	__u8 addr[16];
};

/* A file's identity: inode number and its superblock's device. */
struct ident {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

/* The parts of a rule set that are not keyed lookups: which rule denies
 * fileless execs (rule 0: none) and, per allow-list article (one bit each),
 * its rule. */
struct rule_policy {
	struct rule_ref fileless;
	__u32 exec_allow_mask;
	__u32 net_allow_mask;
	struct rule_ref exec_allow[MAX_ALLOW];
	struct rule_ref net_allow[MAX_ALLOW];
};

struct agent_config {
	__u32 mode;       /* enum agent_mode */
	__u32 agent_tgid; /* never acted upon */
};

enum counter {
	COUNTER_LOST = 0,  /* ring buffer full: event dropped */
	COUNTER_MAX = 4,
};

struct scratch {
	char buf[SCRATCH_LEN];
	struct path_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* the agent may resize it at load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct agent_config);
} settings SEC(".maps");

/* A break-glass exemption: the cgroup (a pod's) and its descendants are
 * exempt from one rule while a verified override lasts. The agent adds and
 * removes entries as overrides start and expire. */
struct exempt_key {
	__u64 cgroup_id;
	__u32 rule; /* 1-based, as in struct rule_ref */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct exempt_key);
	__type(value, __u8);
} exempt SEC(".maps");

/* cgroup v2 ids (directory inode numbers) in scope, with their descendants. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} scope SEC(".maps");

#define PATH_MAP(name)                                   \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);     \
		__uint(max_entries, 1024);               \
		__uint(map_flags, BPF_F_NO_PREALLOC);    \
		__type(key, struct path_key);            \
		__type(value, struct rule_ref);          \
	} name SEC(".maps")

PATH_MAP(exec_deny);
PATH_MAP(open_write_deny);
PATH_MAP(open_read_deny);

#define NET_MAP(name)                                    \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);     \
		__uint(max_entries, 1024);               \
		__uint(map_flags, BPF_F_NO_PREALLOC);    \
		__type(key, struct net_key);             \
		__type(value, struct rule_ref);          \
	} name SEC(".maps")

NET_MAP(net_port); /* CIDR with a port */
NET_MAP(net_any);  /* CIDR, any port */

/* Allow-lists: the value is the mask of allow-list articles that admit the key. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct path_key);
	__type(value, __u32);
} exec_allow_path SEC(".maps");

#define NET_MASK_MAP(name)                               \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);     \
		__uint(max_entries, 1024);               \
		__uint(map_flags, BPF_F_NO_PREALLOC);    \
		__type(key, struct net_key);             \
		__type(value, __u32);                    \
	} name SEC(".maps")

NET_MASK_MAP(net_allow_port);
NET_MASK_MAP(net_allow_any);

/* Identities of the listed files, resolved by the agent in every mount
 * namespace it found in scope. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ident);
	__type(value, struct rule_ref);
} exec_deny_ident SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ident);
	__type(value, __u32);
} exec_allow_ident SEC(".maps");

/* Mount namespaces (inode numbers) whose identities the agent resolved. In
 * another one an allow-list matches by path until the next reload. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} resolved_mntns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rule_policy);
} policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* Puts struct event into the BTF that bpf2go turns into Go. */
const struct event *unused_event __attribute__((unused));

static __always_inline struct agent_config *get_config(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&settings, &zero);
}

static __always_inline struct rule_policy *get_policy(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&policy, &zero);
}

/* first_rule returns the rule of the lowest allow-list bit set in missing. */
static __always_inline struct rule_ref *first_rule(struct rule_ref *refs, __u32 missing)
{
	for (int i = 0; i < MAX_ALLOW; i++)
		if (missing & (1u << i))
			return &refs[i];
	return NULL;
}

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* in_scope says whether the current task is one the agent acts on: inside a
 * scoped cgroup or one of its descendants, not PID 1, not the agent. */
static __always_inline bool in_scope(struct agent_config *cfg)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (tgid <= 1 || tgid == cfg->agent_tgid)
		return false;
	__u64 id = bpf_get_current_cgroup_id();
	if (bpf_map_lookup_elem(&scope, &id))
		return true;
	for (int level = 0; level < MAX_ANCESTORS; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (id == 0)
			return false;
		if (bpf_map_lookup_elem(&scope, &id))
			return true;
	}
	return false;
}

/* exempted says whether an override exempts the current task's cgroup, or
 * one of its ancestors (the pod), from rule. Only a matched operation pays
 * for this walk. */
static __always_inline bool exempted(__u32 rule)
{
	struct exempt_key k = {.cgroup_id = bpf_get_current_cgroup_id(), .rule = rule};
	if (bpf_map_lookup_elem(&exempt, &k))
		return true;
	for (int level = 0; level < MAX_ANCESTORS; level++) {
		k.cgroup_id = bpf_get_current_ancestor_cgroup_id(level);
		if (k.cgroup_id == 0)
			return false;
		if (bpf_map_lookup_elem(&exempt, &k))
			return true;
	}
	return false;
}

/* verdict_for turns a rule action into what the hook does under the mode
 * and the overrides in force. */
static __always_inline __u8 verdict_for(struct agent_config *cfg, struct rule_ref *r)
{
	if (exempted(r->rule))
		return VERDICT_EXEMPT;
	if (r->action != ACTION_DENY)
		return VERDICT_AUDIT;
	return cfg->mode == MODE_ENFORCE ? VERDICT_DENIED : VERDICT_MONITOR;
}

/* new_event reserves a ring buffer record filled with the task's identity,
 * counting the loss when the buffer is full. */
static __always_inline struct event *new_event(__u8 kind, __u8 hook, __u8 verdict, __u32 rule)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COUNTER_LOST);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->kind = kind;
	e->hook = hook;
	e->verdict = verdict;
	e->rule = rule;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

struct walk {
	struct scratch *s;
	struct dentry *d;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	int pos;
};

/* walk_step adds one path component, or crosses one mount, per call. It
 * runs under bpf_loop so the verifier checks it once, not per iteration. */
static long walk_step(__u32 i, struct walk *w)
{
	/* Locals, not w->..., inside BPF_CORE_READ: the macro would record a
	 * CO-RE relocation against struct walk, which the kernel does not have. */
	struct dentry *d = w->d;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;

	if (d == w->root_dentry && vfsmnt == w->root_mnt)
		return 1;
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	if (d == mnt_root || d == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt)
			return 1;
		w->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = &up->mnt;
		return 0;
	}
	__u32 len = BPF_CORE_READ(d, d_name.len);
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	int pos = w->pos;
	if (len == 0 || len >= PATH_LEN || (int)len + 1 > pos)
		return 1;
	pos -= len;
	bpf_probe_read_kernel(&w->s->buf[pos & (PATH_LEN - 1)], len & (PATH_LEN - 1), name);
	pos--;
	w->s->buf[pos & (PATH_LEN - 1)] = '/';
	w->pos = pos;
	w->d = parent;
	return 0;
}

/* resolve_path rebuilds the absolute path of p, as the current task sees it
 * (stopping at its root, crossing mounts), into s->buf ending at index
 * PATH_LEN - 1. It returns the start offset of the path in s->buf. Paths
 * longer than PATH_LEN - 1 lose their leading components. */
static __always_inline int resolve_path(struct scratch *s, const struct path *p)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	struct vfsmount *vfsmnt = BPF_CORE_READ(p, mnt);
	struct walk w = {
		.s = s,
		.d = BPF_CORE_READ(p, dentry),
		.vfsmnt = vfsmnt,
		.mnt = container_of(vfsmnt, struct mount, mnt),
		.root_dentry = BPF_CORE_READ(t, fs, root.dentry),
		.root_mnt = BPF_CORE_READ(t, fs, root.mnt),
		.pos = PATH_LEN - 1,
	};
	s->buf[PATH_LEN - 1] = 0;
	bpf_loop(MAX_COMPONENTS, walk_step, &w, 0);
	int pos = w.pos;
	if (pos == PATH_LEN - 1) {
		pos--;
		s->buf[pos & (PATH_LEN - 1)] = '/';
	}
	return pos & (PATH_LEN - 1);
}

/* lookup_path looks the NUL-terminated string in key->path up in an LPM path map. */
static __always_inline struct rule_ref *lookup_path(void *map, struct path_key *key)
{
	key->prefixlen = PATH_LEN * 8;
	return bpf_map_lookup_elem(map, key);
}

/* net_not_allowed returns the rule of the first allow-list article that does
 * not admit the destination, or NULL. */
static __always_inline struct rule_ref *net_not_allowed(__u8 addr[16], __u16 port)
{
	struct rule_policy *pol = get_policy();
	if (!pol || !pol->net_allow_mask)
		return NULL;
	struct net_key k = {.prefixlen = (2 + 16) * 8, .port = port};
	__builtin_memcpy(k.addr, addr, 16);
	__u32 have = 0;
	__u32 *m = bpf_map_lookup_elem(&net_allow_port, &k);
	if (m)
		have |= *m;
	k.port = 0;
	m = bpf_map_lookup_elem(&net_allow_any, &k);
	if (m)
		have |= *m;
	return first_rule(pol->net_allow, pol->net_allow_mask & ~have);
}

/* lookup_net matches an address (v4-mapped for IPv4) and a port (network
 * order) against the connect rules: port-specific entries first. */
static __always_inline struct rule_ref *lookup_net(__u8 addr[16], __u16 port)
{
	struct net_key k = {.prefixlen = (2 + 16) * 8, .port = port};
	__builtin_memcpy(k.addr, addr, 16);
	struct rule_ref *r = bpf_map_lookup_elem(&net_port, &k);
	if (r)
		return r;
	k.port = 0;
	return bpf_map_lookup_elem(&net_any, &k);
}
