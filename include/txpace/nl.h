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

#endif
