/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* BPF LSM variants: the kernel refuses the operation itself. Loaded only when
 * the agent's probe finds BPF LSM usable; otherwise the tracepoint and cgroup
 * programs run. */
#pragma once

#include "common.h"
#include "exec.h"
#include "connect.h"
#include "open.h"

SEC("lsm/bprm_check_security")
int BPF_PROG(exec_lsm, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	struct agent_config *cfg = get_config();
	if (!cfg || !in_scope(cfg))
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	/* The hook runs once per binary format stage: for a "#!" script first on
	 * the script, then on its interpreter. Allow-lists judge the interpreter,
	 * as the fallback does (it only sees the final image). */
	char magic[2] = {};
	BPF_CORE_READ_INTO(&magic, bprm, buf);
	bool script = magic[0] == '#' && magic[1] == '!';
	struct exec_facts x = {};
	struct rule_ref *r = exec_match(s, bprm, &x, !script);
	if (!r)
		return 0;
	__u8 verdict = verdict_for(cfg, r);
	exec_report(s, r, &x, HOOK_LSM_EXEC, verdict, false);
	return verdict == VERDICT_DENIED ? -EPERM : 0;
}

SEC("lsm/file_open")
int BPF_PROG(open_lsm, struct file *file, int ret)
{
	if (ret)
		return ret;
	struct agent_config *cfg = get_config();
	if (!cfg || !in_scope(cfg))
		return 0;
	struct scratch *s = get_scratch();
	if (!s)
		return 0;
	int start = resolve_path(s, &file->f_path);
	bpf_probe_read_kernel_str(s->key.path, PATH_LEN, &s->buf[start]);
	__u32 mode = BPF_CORE_READ(file, f_mode);
	__u32 flags = BPF_CORE_READ(file, f_flags);
	__u8 is_write = 0;
	struct rule_ref *r = open_match(s, mode & FMODE_WRITE, mode & FMODE_READ, &is_write);
	if (!r)
		return 0;
	__u8 verdict = verdict_for(cfg, r);
	open_report(s, r, HOOK_LSM_OPEN, verdict, flags, is_write);
	return verdict == VERDICT_DENIED ? -EPERM : 0;
}

/* sockaddr_check reads an IPv4 or IPv6 socket address and checks it
 * against the connect rules: 0 when the call must fail. */
static __always_inline int sockaddr_check(__u8 hook, struct sockaddr *address)
{
	__u16 family = BPF_CORE_READ(address, sa_family);
	__u8 addr[16];
	__u16 port;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)address;
		v4_mapped(addr, BPF_CORE_READ(in, sin_addr.s_addr));
		port = BPF_CORE_READ(in, sin_port);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)address;
		BPF_CORE_READ_INTO(&addr, in6, sin6_addr.in6_u.u6_addr8);
		port = BPF_CORE_READ(in6, sin6_port);
	} else {
		return 1;
	}
	return connect_check(hook, family, addr, port);
}

SEC("lsm/socket_connect")
int BPF_PROG(connect_lsm, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return sockaddr_check(HOOK_LSM_CONNECT, address) ? 0 : -EPERM;
}

/* Datagrams with an explicit destination (sendto, sendmsg without connect);
 * a connected socket's destination was checked at connect. */
SEC("lsm/socket_sendmsg")
int BPF_PROG(sendmsg_lsm, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	if (ret)
		return ret;
	struct sockaddr *address = BPF_CORE_READ(msg, msg_name);
	if (!address)
		return 0;
	return sockaddr_check(HOOK_LSM_SENDMSG, address) ? 0 : -EPERM;
}
