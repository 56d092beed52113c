/* SPDX-License-Identifier: GPL-2.0-only */
/* Generic netlink (nl80211, ethtool) through libmnl: private to user/netlink/. */
#ifndef TXPACE_NETLINK_GENL_H
#define TXPACE_NETLINK_GENL_H

#include <libmnl/libmnl.h>
#include <stdint.h>

struct genl {
	struct mnl_socket *sock;
	unsigned portid, seq;
	uint16_t family;
	/* aligned: libmnl lays a struct nlmsghdr at its start (an alignment trap on 32-bit ARM) */
	char buf[8192] __attribute__((aligned(8)));
};

/** Open a socket and resolve @family. @return 0, -ENOENT when the kernel has no such family */
int genl_open(struct genl *g, const char *family);
void genl_close(struct genl *g);
/** Start a request @cmd of @type (the family id) with NLM_F_ACK. */
struct nlmsghdr *genl_req(struct genl *g, uint16_t type, uint8_t cmd);
/** Send and run the answers through @cb until the ACK. @return 0 or -errno */
int genl_talk(struct genl *g, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg);


#endif
