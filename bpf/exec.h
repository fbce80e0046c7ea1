/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* exec: match the new image against exec_deny. */
#pragma once

#include "common.h"

/* exec_match checks the resolved binary, then the name as passed to execve
 * and the script interpreter, against exec_deny. On a match it leaves the
 * matching path in s->key.path. */
static __always_inline struct rule_ref *exec_match(struct scratch *s, struct linux_binprm *bprm)
{
	struct rule_ref *r;
	struct file *f = BPF_CORE_READ(bprm, file);
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
	return NULL;
}

static __always_inline void exec_report(struct scratch *s, struct rule_ref *r, __u8 hook, __u8 verdict)
{
	struct event *e = new_event(KIND_EXEC, hook, verdict, r->rule);
	if (!e)
		return;
	bpf_probe_read_kernel_str(e->path, PATH_LEN, s->key.path);
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	unsigned long start = BPF_CORE_READ(t, mm, arg_start);
	unsigned long end = BPF_CORE_READ(t, mm, arg_end);
	if (end > start) {
		unsigned long n = end - start;
		if (n > ARGS_LEN)
			n = ARGS_LEN;
		bpf_probe_read_user(e->args, n & (ARGS_LEN * 2 - 1), (void *)start);
	}
	bpf_ringbuf_submit(e, 0);
}

/* Fallback path: the new image is in place but has not run an instruction;
 * SIGKILL is delivered before the return to user space. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_tp, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct agent_config *cfg = get_config();
	if (!cfg || !in_scope(cfg))
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	struct rule_ref *r = exec_match(s, bprm);
	if (!r)
		return 0;
	__u8 verdict = verdict_for(cfg, r);
	if (verdict == VERDICT_DENIED)
		bpf_send_signal(SIGKILL);
	exec_report(s, r, HOOK_TP_EXEC, verdict);
	return 0;
}
