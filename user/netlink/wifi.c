// SPDX-License-Identifier: GPL-2.0-only
/* nl80211 power save: resolve the family, then GET/SET_POWER_SAVE on one interface. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/nl80211.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "genl.h"
#include "txpace/wifi.h"

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

	rc = genl_open(&g, NL80211_GENL_NAME);
	if (rc) {
		return rc == -ENOENT ? -EOPNOTSUPP : rc;	/* no cfg80211: no Wi-Fi at all */
	}
	nlh = genl_req(&g, g.family, NL80211_CMD_GET_POWER_SAVE);
	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, (uint32_t)ifindex);
	rc = genl_talk(&g, nlh, ps_cb, &state);
	genl_close(&g);
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

	rc = genl_open(&g, NL80211_GENL_NAME);
	if (rc) {
		return rc == -ENOENT ? -EOPNOTSUPP : rc;	/* no cfg80211: no Wi-Fi at all */
	}
	nlh = genl_req(&g, g.family, NL80211_CMD_SET_POWER_SAVE);
	mnl_attr_put_u32(nlh, NL80211_ATTR_IFINDEX, (uint32_t)ifindex);
	mnl_attr_put_u32(nlh, NL80211_ATTR_PS_STATE, on ? NL80211_PS_ENABLED : NL80211_PS_DISABLED);
	rc = genl_talk(&g, nlh, NULL, NULL);
	genl_close(&g);
	return rc;
}
