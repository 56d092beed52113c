// SPDX-License-Identifier: GPL-2.0-only
/* Netlink module: the only file that includes libmnl; requests are acknowledged and checked. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txpace/nl.h"

struct nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	char buf[8192];	/* MNL_SOCKET_BUFFER_SIZE is a runtime value (page size) */
};

struct nl *nl_open(void)
{
	struct nl *nl = calloc(1, sizeof(*nl));

	if (!nl) {
		return NULL;
	}
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		nl_close(nl);
		errno = e;
		return NULL;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return nl;
}

void nl_close(struct nl *nl)
{
	if (!nl) {
		return;
	}
	if (nl->sock) {
		mnl_socket_close(nl->sock);
	}
	free(nl);
}

static struct nlmsghdr *put_req(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Send one request and wait for its ACK. @return 0 or the kernel's -errno */
static int talk(struct nl *nl, struct nlmsghdr *nlh)
{
	ssize_t n;
	int rc;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
		return -errno;
	}
	do {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0) {
			return -errno;
		}
		rc = mnl_cb_run(nl->buf, (size_t)n, nl->seq, nl->portid, NULL, NULL);
	} while (rc > 0);
	return rc < 0 ? -errno : 0;
}

int nl_veth_create(struct nl *nl, const char *name, const char *peer, int peer_ns_fd)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct nlattr *linkinfo, *data, *pn;

	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pn = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* the peer attribute starts with its own ifinfomsg */
	memset(mnl_nlmsg_get_payload_tail(nlh), 0, sizeof(struct ifinfomsg));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_ns_fd >= 0) {
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_ns_fd);
	}
	mnl_attr_nest_end(nlh, pn);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return talk(nl, nlh);
}

int nl_link_up(struct nl *nl, const char *ifname)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)if_nametoindex(ifname);
	if (!ifm->ifi_index) {
		return -ENODEV;
	}
	ifm->ifi_flags = IFF_UP | IFF_MULTICAST;
	ifm->ifi_change = IFF_UP | IFF_MULTICAST;
	return talk(nl, nlh);
}

int nl_addr_add(struct nl *nl, const char *ifname, int family, const void *addr, int prefix)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t alen = family == AF_INET ? 4 : 16;

	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_index = if_nametoindex(ifname);
	if (!ifa->ifa_index) {
		return -ENODEV;
	}
	if (family == AF_INET6) {
		/* no duplicate address detection: the address is usable at once */
		ifa->ifa_flags = IFA_F_NODAD;
	}
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	return talk(nl, nlh);
}

int nl_qdisc_add_root(struct nl *nl, const char *ifname, const char *kind)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = (int)if_nametoindex(ifname);
	if (!tcm->tcm_ifindex) {
		return -ENODEV;
	}
	tcm->tcm_parent = TC_H_ROOT;
	tcm->tcm_handle = 0;
	mnl_attr_put_strz(nlh, TCA_KIND, kind);
	return talk(nl, nlh);
}

int nl_link_del(struct nl *nl, const char *ifname)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_DELLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)if_nametoindex(ifname);
	if (!ifm->ifi_index) {
		return -ENODEV;
	}
	return talk(nl, nlh);
}
