/* SPDX-License-Identifier: GPL-2.0-only */
/* rtnetlink through libmnl: one socket/ACK layer and one small function per request. */
#ifndef TXPACE_NL_H
#define TXPACE_NL_H

#include <stdint.h>

struct nl;

/** Open a NETLINK_ROUTE socket in the calling thread's network namespace. NULL + errno on error. */
struct nl *nl_open(void);
void nl_close(struct nl *nl);
/** Create veth @name with peer @peer, the peer moved into the namespace @peer_ns_fd (-1 = here). */
int nl_veth_create(struct nl *nl, const char *name, const char *peer, int peer_ns_fd);
/** Set @ifname administratively up (and multicast on). @return 0 or -errno */
int nl_link_up(struct nl *nl, const char *ifname);
/** Add @addr/@prefix (IPv4 or IPv6 by @family) to @ifname. @return 0 or -errno */
int nl_addr_add(struct nl *nl, const char *ifname, int family, const void *addr, int prefix);
/**
 * Create qdisc @kind as the root of @ifname, without options (a probe: does the kernel know it?).
 * @return 0, -ENOENT when the kernel has no such qdisc, or another -errno (EINVAL: it exists but
 *         wants options)
 */
int nl_qdisc_add_root(struct nl *nl, const char *ifname, const char *kind);
/** Delete link @ifname. @return 0 or -errno */
int nl_link_del(struct nl *nl, const char *ifname);

struct nlmsghdr;

/* One qdisc as the kernel reports it. handle 0 = the kernel's own default, not configured. */
struct nl_qdisc {
	uint32_t parent, handle;
	char kind[32];
};

/**
 * Call @cb for every qdisc of @ifindex with the kernel's RTM_NEWQDISC message (saved as is to
 * re-create it later). A nonzero return from @cb stops and is returned.
 */
int nl_qdisc_list(struct nl *nl, int ifindex,
		  int (*cb)(const struct nlmsghdr *nlh, const struct nl_qdisc *q, void *arg), void *arg);
/** Delete the qdisc at @parent/@handle (TC_H_ROOT, 0: the root; the default comes back). */
int nl_qdisc_del(struct nl *nl, int ifindex, uint32_t parent, uint32_t handle);
/** Re-create a qdisc from a message nl_qdisc_list() reported (kind + options, same handle). */
int nl_qdisc_recreate(struct nl *nl, const void *msg, size_t len);

struct nl_fq {
	uint32_t flow_limit, limit;	/* packets; 0 = kernel default */
	uint32_t horizon_us;		/* 0 = default (10 s); drop beyond it */
	uint32_t timer_slack_ns;	/* 0 = default (10 us) */
};

/** Create or replace fq at @parent with @handle. */
int nl_qdisc_fq(struct nl *nl, int ifindex, uint32_t parent, uint32_t handle,
		const struct nl_fq *p);
/** Root mq (one child per TX queue). */
int nl_qdisc_mq(struct nl *nl, int ifindex, uint32_t handle);
/** Root mqprio: class 1 = the last queue for socket priority @prio, class 0 = the others. */
int nl_qdisc_mqprio(struct nl *nl, int ifindex, uint32_t handle, unsigned queues, int prio);
/** etf (CLOCK_TAI) at @parent; @offload asks for NIC launch time. */
int nl_qdisc_etf(struct nl *nl, int ifindex, uint32_t parent, uint32_t handle, int32_t delta_ns,
		 int offload);

struct nl_link {
	char name[32], kind[32];
	unsigned flags, tx_queues;
	unsigned short type;	/* ARPHRD_*: what the packets start with */
	uint8_t operstate;
};

/** @return 0 and the link's facts, or -ENODEV */
int nl_link_get(struct nl *nl, int ifindex, struct nl_link *out);
/** @return the ifindex a packet to @dst (4 or 16 bytes by @family) leaves through, or -errno */
int nl_route_oif(struct nl *nl, int family, const void *dst);

/** strerror(-@rc) and the kernel's extended ACK message for the last request, if it sent one */
const char *nl_strerror(struct nl *nl, int rc);

/* Link events: a non-blocking socket subscribed to RTMGRP_LINK. */
struct nl *nl_open_groups(unsigned groups);
int nl_fd(const struct nl *nl);

struct nl_link_event {
	int ifindex;
	int seen, up, deleted;	/* the last event for ifindex since the previous call */
};

/** Read every pending event. @return 0 or -errno */
int nl_link_events(struct nl *nl, struct nl_link_event *ev);

#endif
