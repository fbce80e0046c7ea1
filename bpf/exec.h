/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* exec: match the new image against the deny paths, the identities of the
 * listed files, the fileless rule and the allow-lists. */
#pragma once

#include "common.h"

#define MNT_NS_INTERNAL_MIN ((unsigned long)-4095) /* ERR_PTR values: kern_mount's MNT_NS_INTERNAL */

/* What exec_match learned about the executed file, for the event. */
struct exec_facts {
	struct ident id;
	__u8 match;
	__u8 fileless;
};

/* is_fileless: the file has no path on a filesystem. Its last link is gone
 * (a deleted file, O_TMPFILE), or its mount is in no mount namespace (a
 * memfd lives on the kernel's internal shm mount; a lazily unmounted
 * filesystem is detached). */
static __always_inline __u8 is_fileless(struct file *f, struct inode *inode)
{
	if (BPF_CORE_READ(inode, __i_nlink) == 0)
		return 1;
	struct vfsmount *vfsmnt = BPF_CORE_READ(f, f_path.mnt);
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	unsigned long ns = (unsigned long)BPF_CORE_READ(mnt, mnt_ns);
	return ns == 0 || ns >= MNT_NS_INTERNAL_MIN;
}

/* mntns_resolved says whether the agent resolved the listed files'
 * identities in the current task's mount namespace. */
static __always_inline bool mntns_resolved(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	__u32 inum = BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
	return bpf_map_lookup_elem(&resolved_mntns, &inum) != NULL;
}

/* exec_allowed_mask is the set of allow-list articles that admit the file:
 * by identity where the agent resolved this mount namespace, else by path
 * (the resolved path or the name passed to execve). */
static __always_inline __u32 exec_allowed_mask(struct scratch *s, struct linux_binprm *bprm, struct ident *id)
{
	__u32 *m;
	if (mntns_resolved()) {
		m = bpf_map_lookup_elem(&exec_allow_ident, id);
		return m ? *m : 0;
	}
	__u32 have = 0;
	m = bpf_map_lookup_elem(&exec_allow_path, &s->key);
	if (m)
		have |= *m;
	struct path_key *k = &s->key;
	bpf_probe_read_kernel_str(k->path, PATH_LEN, BPF_CORE_READ(bprm, filename));
	k->prefixlen = PATH_LEN * 8;
	if (k->path[0] == '/' && (m = bpf_map_lookup_elem(&exec_allow_path, k)))
		have |= *m;
	return have;
}

/* exec_match checks the executed file against the rules: its resolved path,
 * the name passed to execve and the script interpreter against exec_deny;
 * its identity against exec_deny_ident; the fileless rule; then every
 * allow-list. check_allow is false for a script on the LSM path, whose
 * interpreter is checked when the kernel execs it. On a match, s->key.path
 * holds the path to report. */
static __always_inline struct rule_ref *exec_match(struct scratch *s, struct linux_binprm *bprm,
						   struct exec_facts *x, bool check_allow)
{
	struct rule_ref *r;
	struct file *f = BPF_CORE_READ(bprm, file);
	struct inode *inode = BPF_CORE_READ(f, f_inode);
	x->id.ino = BPF_CORE_READ(inode, i_ino);
	x->id.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	x->fileless = is_fileless(f, inode);
	x->match = MATCH_LISTED;
	int start = resolve_path(s, &f->f_path);

	bpf_probe_read_kernel_str(s->key.path, PATH_LEN, &s->buf[start]);
	if ((r = lookup_path(&exec_deny, &s->key)))
		return r;
	bpf_probe_read_kernel_str(s->key.path, PATH_LEN, BPF_CORE_READ(bprm, filename));
	if (s->key.path[0] == '/' && (r = lookup_path(&exec_deny, &s->key)))
		return r;
	bpf_probe_read_kernel_str(s->key.path, PATH_LEN, BPF_CORE_READ(bprm, interp));
	if (s->key.path[0] == '/' && (r = lookup_path(&exec_deny, &s->key)))
		return r;

	/* From here on the event reports the resolved path. */
	bpf_probe_read_kernel_str(s->key.path, PATH_LEN, &s->buf[start]);
	s->key.prefixlen = PATH_LEN * 8;
	x->match = MATCH_IDENTITY;
	if ((r = bpf_map_lookup_elem(&exec_deny_ident, &x->id)))
		return r;
	struct rule_policy *pol = get_policy();
	if (!pol)
		return NULL;
	x->match = MATCH_FILELESS;
	if (x->fileless && pol->fileless.rule) {
		/* A memfd's dentry is its own root: report its name, "memfd:NAME". */
		if (start == PATH_LEN - 2)
			bpf_probe_read_kernel_str(s->key.path, PATH_LEN, BPF_CORE_READ(f, f_path.dentry, d_name.name));
		return &pol->fileless;
	}
	if (!check_allow || !pol->exec_allow_mask)
		return NULL;
	x->match = MATCH_NOT_ALLOWED;
	__u32 missing = pol->exec_allow_mask & ~exec_allowed_mask(s, bprm, &x->id);
	r = first_rule(pol->exec_allow, missing);
	if (r) /* exec_allowed_mask may have left the passed name in the key */
		bpf_probe_read_kernel_str(s->key.path, PATH_LEN, &s->buf[start]);
	return r;
}

static __always_inline void exec_report(struct scratch *s, struct rule_ref *r, struct exec_facts *x, __u8 hook,
					__u8 verdict, bool with_args)
{
	struct event *e = new_event(KIND_EXEC, hook, verdict, r->rule);
	if (!e)
		return;
	bpf_probe_read_kernel_str(e->path, PATH_LEN, s->key.path);
	e->ino = x->id.ino;
	e->dev = x->id.dev;
	e->match = x->match;
	e->fileless = x->fileless;
	if (with_args) {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
		unsigned long start = BPF_CORE_READ(t, mm, arg_start);
		unsigned long end = BPF_CORE_READ(t, mm, arg_end);
		if (end > start) {
			unsigned long n = end - start;
			if (n > ARGS_LEN)
				n = ARGS_LEN;
			bpf_probe_read_user(e->args, n & (ARGS_LEN * 2 - 1), (void *)start);
		}
	}
	bpf_ringbuf_submit(e, 0);
}

/* Fallback path: the new image is in place but has not run an instruction;
 * SIGKILL is delivered before the return to user space. For a script,
 * bprm->file is already the interpreter. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_tp, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct agent_config *cfg = get_config();
	if (!cfg || !in_scope(cfg))
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	struct exec_facts x = {};
	struct rule_ref *r = exec_match(s, bprm, &x, true);
	if (!r)
		return 0;
	__u8 verdict = verdict_for(cfg, r);
	if (verdict == VERDICT_DENIED)
		bpf_send_signal(SIGKILL);
	exec_report(s, r, &x, HOOK_TP_EXEC, verdict, true);
	return 0;
}
