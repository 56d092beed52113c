// SPDX-License-Identifier: GPL-2.0-only
/* nl80211 power save: resolve the family, then GET/SET_POWER_SAVE on one interface. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/nl80211.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txpace/wifi.h"

struct genl {
	struct mnl_socket *sock;
	unsigned portid, seq;
	uint16_t family;
	char buf[8192];
};

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

static struct nlmsghdr *req(struct genl *g, uint16_t type, uint8_t cmd)
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

static int talk(struct genl *g, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
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

static int genl_open(struct genl *g)
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
	nlh = req(g, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, NL80211_GENL_NAME);
	rc = talk(g, nlh, family_cb, &g->family);
	if (!rc && !g->family) {
		rc = -ENOENT;
	}
	if (rc) {
		mnl_socket_close(g->sock);
		return rc == -ENOENT ? -EOPNOTSUPP : rc;	/* no cfg80211: no Wi-Fi at all */
	}
	return 0;
}

static int ps_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == NL80211_ATTR_PS_STATE) {
			*(int *)arg = mnl_attr_get_u32(a) == NL80211_PS_ENABLED;
		}
	}
	return MNL_CB_OK;
}

int wifi_get_powersave(int ifindex)
{
	struct genl g;
	struct nlmsghdr *nlh;
	int rc, state = -1;

	rc = genl_open(&g);
	if (rc) {
		return rc;
	}
	nlh = req(&g, g.family, NL80211_CMD_GET_POWER_SAVE);
	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, (uint32_t)ifindex);
	rc = talk(&g, nlh, ps_cb, &state);
	mnl_socket_close(g.sock);
	if (rc) {
		return rc;
	}
	return state < 0 ? -EOPNOTSUPP : state;
}

int wifi_set_powersave(int ifindex, int on)
{
	struct genl g;
	struct nlmsghdr *nlh;
	int rc;

	rc = genl_open(&g);
	if (rc) {
		return rc;
	}
	nlh = req(&g, g.family, NL80211_CMD_SET_POWER_SAVE);
	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, NL80211_ATTR_PS_STATE, on ? NL80211_PS_ENABLED : NL80211_PS_DISABLED);
	rc = talk(&g, nlh, NULL, NULL);
	mnl_socket_close(g.sock);
	return rc;
}
