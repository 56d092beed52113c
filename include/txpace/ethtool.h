/* SPDX-License-Identifier: GPL-2.0-only */
/* ethtool netlink requests (user/netlink/genl.c), for callers that do not speak libmnl. */
#ifndef TXPACE_ETHTOOL_H
#define TXPACE_ETHTOOL_H

#include <stdint.h>

/**
 * ETHTOOL_MSG_TSINFO_GET: the interface's SOF_TIMESTAMPING_* capabilities and PHC (-1: none).
 * @return 0, or -errno (-ENOENT: no ethtool netlink, kernel < 5.11)
 */
int ethtool_tsinfo(int ifindex, uint32_t *so_timestamping, int *phc_index);

#endif
