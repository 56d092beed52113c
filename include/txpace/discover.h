/* SPDX-License-Identifier: GPL-2.0-only */
/* AirPlay receivers on the network, through avahi (mDNS/DNS-SD `_raop._tcp`). */
#ifndef TXPACE_DISCOVER_H
#define TXPACE_DISCOVER_H

#include <stddef.h>

#include "txpace/net.h"
#include "txpace/stop.h"

struct raop_service {
	char name[128];		/* the part after '@' ("Living Room") */
	char full[192];		/* the service name ("AABBCCDDEEFF@Living Room") */
	char host[128];
	struct net_addr addr;	/* address and port */
	char et[32], cn[32], md[32];	/* encryption types, codecs, metadata types (TXT) */
};

/**
 * Browse for @timeout_ms (stopping early once every service found is resolved), calling
 * @cb for each receiver resolved. @return receivers found, or -errno with @err filled
 */
int discover_browse(int timeout_ms, void (*cb)(void *ctx, const struct raop_service *s), void *ctx,
		    const txp_stop_flag *stop, char *err, size_t errlen);
/** Find the receiver called @name (or with that full service name). @return 0 or -ENOENT... */
int discover_raop(const char *name, int timeout_ms, const txp_stop_flag *stop, struct net_addr *out,
		  char *err, size_t errlen);

#endif
