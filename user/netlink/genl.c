// SPDX-License-Identifier: GPL-2.0-only
/* Generic netlink over libmnl: resolve a family, send a request, run the answers. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <string.h>
#include <time.h>

#include "genl.h"
#include "txpace/ethtool.h"

static int family_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) {
			*(uint16_t *)arg = mnl_attr_get_u16(a);
		}
	}
	return MNL_CB_OK;
}

struct nlmsghdr *genl_req(struct genl *g, uint16_t type, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(g->buf);
	struct genlmsghdr *gh;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++g->seq;
	gh = mnl_nlmsg_put_extra_header(nlh, sizeof(*gh));
	gh->cmd = cmd;
	gh->version = 1;
	return nlh;
}

int genl_talk(struct genl *g, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	ssize_t n;
	int rc;

	if (mnl_socket_sendto(g->sock, nlh, nlh->nlmsg_len) < 0) {
		return -errno;
	}
	do {
		n = mnl_socket_recvfrom(g->sock, g->buf, sizeof(g->buf));
		if (n < 0) {
			return -errno;
		}
		rc = mnl_cb_run(g->buf, (size_t)n, g->seq, g->portid, cb, arg);
	} while (rc > 0);
	return rc < 0 ? -errno : 0;
}

int genl_open(struct genl *g, const char *family)
{
	struct nlmsghdr *nlh;
	int rc;

	memset(g, 0, sizeof(*g));
	g->sock = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!g->sock || mnl_socket_bind(g->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		if (g->sock) {
			mnl_socket_close(g->sock);
		}
		return rc;
	}
	g->portid = mnl_socket_get_portid(g->sock);
	g->seq = (unsigned)time(NULL);
	nlh = genl_req(g, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, family);
	rc = genl_talk(g, nlh, family_cb, &g->family);
	if (!rc && !g->family) {
		rc = -ENOENT;
	}
	if (rc) {
		mnl_socket_close(g->sock);
		return rc;
	}
	return 0;
}

void genl_close(struct genl *g)
{
	mnl_socket_close(g->sock);
}


struct tsinfo {
	int phc;
	uint32_t ts;	/* SOF_TIMESTAMPING_* bits (the first word of the bitset) */
	int have;
};

static int tsinfo_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct tsinfo *t = arg;
	const struct nlattr *a, *b;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case ETHTOOL_A_TSINFO_PHC_INDEX:
			t->phc = (int)mnl_attr_get_u32(a);
			break;
		case ETHTOOL_A_TSINFO_TIMESTAMPING:
			t->have = 1;
			mnl_attr_for_each_nested(b, a) {
				if (mnl_attr_get_type(b) == ETHTOOL_A_BITSET_VALUE &&
				    mnl_attr_get_payload_len(b) >= 4) {
					memcpy(&t->ts, mnl_attr_get_payload(b), 4);
				}
			}
			break;
		}
	}
	return MNL_CB_OK;
}

int ethtool_tsinfo(int ifindex, uint32_t *so_timestamping, int *phc_index)
{
	struct genl g;
	struct nlmsghdr *nlh;
	struct nlattr *h;
	struct tsinfo t = { .phc = -1 };
	int rc;

	rc = genl_open(&g, ETHTOOL_GENL_NAME);
	if (rc) {
		return rc;
	}
	nlh = genl_req(&g, g.family, ETHTOOL_MSG_TSINFO_GET);
	h = mnl_attr_nest_start(nlh, ETHTOOL_A_TSINFO_HEADER);
	mnl_attr_put_u32(nlh, ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, ETHTOOL_A_HEADER_FLAGS, ETHTOOL_FLAG_COMPACT_BITSETS);
	mnl_attr_nest_end(nlh, h);
	rc = genl_talk(&g, nlh, tsinfo_cb, &t);
	genl_close(&g);
	if (rc) {
		return rc;
	}
	*so_timestamping = t.ts;
	*phc_index = t.phc;
	return t.have ? 0 : -EOPNOTSUPP;
}
