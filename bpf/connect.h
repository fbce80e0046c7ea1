/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* connect: match the destination against the net_port and net_any tries. */
#pragma once

#include "common.h"

static __always_inline void connect_report(struct rule_ref *r, __u8 match, __u8 hook, __u8 verdict,
					   __u16 family, __u8 addr[16], __u16 port)
{
	struct event *e = new_event(KIND_CONNECT, hook, verdict, r->rule);
	if (!e)
		return;
	e->match = match;
	e->family = family;
	e->port = bpf_ntohs(port);
	__builtin_memcpy(e->addr, addr, 16);
	bpf_ringbuf_submit(e, 0);
}

/* connect_check returns 0 when the connect must fail, 1 otherwise. */
static __always_inline int connect_check(__u8 hook, __u16 family, __u8 addr[16], __u16 port)
{
	struct agent_config *cfg = get_config();
	if (!cfg || !in_scope(cfg))
		return 1;
	__u8 match = MATCH_LISTED; /* the destination is listed */
	struct rule_ref *r = lookup_net(addr, port);
	if (!r) {
		match = MATCH_NOT_ALLOWED;
		r = net_not_allowed(addr, port);
	}
	if (!r)
		return 1;
	__u8 verdict = verdict_for(cfg, r);
	connect_report(r, match, hook, verdict, family, addr, port);
	return verdict == VERDICT_DENIED ? 0 : 1;
}

static __always_inline void v4_mapped(__u8 addr[16], __u32 ip4)
{
	__builtin_memset(addr, 0, 10);
	addr[10] = 0xff;
	addr[11] = 0xff;
	__builtin_memcpy(&addr[12], &ip4, 4);
}

static __always_inline int check6(struct bpf_sock_addr *ctx, __u8 hook)
{
	__u8 addr[16];
	__u32 w[4];
	w[0] = ctx->user_ip6[0];
	w[1] = ctx->user_ip6[1];
	w[2] = ctx->user_ip6[2];
	w[3] = ctx->user_ip6[3];
	__builtin_memcpy(addr, w, 16);
	return connect_check(hook, AF_INET6, addr, (__u16)ctx->user_port);
}

static __always_inline int check4(struct bpf_sock_addr *ctx, __u8 hook)
{
	__u8 addr[16];
	v4_mapped(addr, ctx->user_ip4);
	return connect_check(hook, AF_INET, addr, (__u16)ctx->user_port);
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	return check4(ctx, HOOK_CGROUP_CONNECT);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	return check6(ctx, HOOK_CGROUP_CONNECT);
}

/* Unconnected UDP: sendto/sendmsg with a destination go through the same
 * rules as connect. */
SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
	return check4(ctx, HOOK_CGROUP_SENDMSG);
}

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
	return check6(ctx, HOOK_CGROUP_SENDMSG);
}
