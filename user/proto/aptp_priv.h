/* SPDX-License-Identifier: GPL-2.0-only */
/* aptp's private helpers: the 319/320 sockets and the clock identity's MAC. */
#ifndef TXPACE_APTP_PRIV_H
#define TXPACE_APTP_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/net.h"

/**
 * A UDP socket bound to @local's address, port @port (CLOEXEC, NONBLOCK).
 * @return the socket, or -errno with a one-line reason in @err (naming the holder of the port)
 */
int aptp_sock_bind(const struct net_addr *local, uint16_t port, int share, char *err,
		   size_t errlen);
/**
 * The MAC of @iface, or of the interface holding @local's address when @iface is NULL.
 * @return 0, or -errno (-ENOENT: no such interface; -ENODATA: it has no MAC, e.g. lo)
 */
int aptp_sock_mac(const struct net_addr *local, const char *iface, uint8_t mac[6], char *name,
		  size_t namelen);

#endif
