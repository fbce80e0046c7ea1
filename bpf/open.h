/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* open: report reads and writes under the open_read_deny / open_write_deny prefixes. */
#pragma once

#include "common.h"

#define AT_FDCWD -100

static __always_inline bool wants_write(__u32 flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC));
}

static __always_inline bool wants_read(__u32 flags)
{
	__u32 acc = flags & O_ACCMODE;
	return acc == O_RDONLY || acc == O_RDWR;
}

/* open_match looks s->key.path up for the access the flags ask for. */
static __always_inline struct rule_ref *open_match(struct scratch *s, bool write, bool read, __u8 *is_write)
{
	struct rule_ref *r;
	if (write && (r = lookup_path(&open_write_deny, &s->key))) {
		*is_write = 1;
		return r;
	}
	if (read && (r = lookup_path(&open_read_deny, &s->key))) {
		*is_write = 0;
		return r;
	}
	return NULL;
}

static __always_inline void open_report(struct scratch *s, struct rule_ref *r, __u8 hook, __u8 verdict,
					__u32 flags, __u8 is_write)
{
	struct event *e = new_event(KIND_OPEN, hook, verdict, r->rule);
	if (!e)
		return;
	e->flags = flags;
	e->write = is_write;
	bpf_probe_read_kernel_str(e->path, PATH_LEN, s->key.path);
	bpf_ringbuf_submit(e, 0);
}

/* Fallback path: a tracepoint cannot fail the call, so it reports only.
 * Relative names are joined to the working directory; ".." is not folded. */
SEC("tracepoint/syscalls/sys_enter_openat")
int openat_tp(struct trace_event_raw_sys_enter *ctx)
{
	struct agent_config *cfg = get_config();
	if (!cfg || !in_scope(cfg))
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	const char *name = (const char *)ctx->args[1];
	__u32 flags = (__u32)ctx->args[2];
	int dfd = (int)ctx->args[0];

	if (bpf_probe_read_user_str(s->key.path, PATH_LEN, name) <= 0)
		return 0;
	if (s->key.path[0] != '/') {
		if (dfd != AT_FDCWD)
			return 0;
		struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
		struct path pwd = BPF_CORE_READ(t, fs, pwd);
		int start = resolve_path(s, &pwd);
		if (start == PATH_LEN - 2) { /* working directory is "/" */
			bpf_probe_read_user_str(&s->buf[PATH_LEN - 1], PATH_LEN, name);
		} else {
			s->buf[PATH_LEN - 1] = '/';
			bpf_probe_read_user_str(&s->buf[PATH_LEN], PATH_LEN, name);
		}
		bpf_probe_read_kernel_str(s->key.path, PATH_LEN, &s->buf[start]);
	}
	__u8 is_write = 0;
	struct rule_ref *r = open_match(s, wants_write(flags), wants_read(flags), &is_write);
	if (!r)
		return 0;
	__u8 verdict = verdict_for(cfg, r);
	/* The tracepoint cannot refuse the call: an enforced deny is reported as such
	 * by user space only when the LSM path runs. */
	if (verdict == VERDICT_DENIED)
		verdict = VERDICT_MONITOR;
	open_report(s, r, HOOK_TP_OPENAT, verdict, flags, is_write);
	return 0;
}
