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
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "txpace/nl.h"

struct nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	/*
	 * 64 KiB: a dump message of a big qdisc tree (mq over hundreds of queues) is larger than
	 * a page, and a truncated one is lost. Aligned, since a struct nlmsghdr is laid at its start.
	 */
	char buf[65536] __attribute__((aligned(8)));
	char ext_msg[160];	/* the kernel's extended ACK message of the last failed request */
	char err[256];		/* nl_strerror's answer */
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
	/* the kernel then says why it refused a request ("Specified qdisc kind is unknown") */
	int one = 1;

	setsockopt(mnl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
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

/*
 * Send one request and hand every answer to @cb (may be NULL) until the ACK or the end of a
 * dump. @return 0 or the kernel's -errno
 */
/* Keep the extended ACK message (NLMSGERR_ATTR_MSG) of an error answer among @n bytes. */
static void keep_ext_ack(struct nl *nl, size_t n)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)nl->buf;
	int left = (int)n;

	for (; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
		const struct nlattr *a;
		size_t off;

		if (h->nlmsg_type != NLMSG_ERROR || !(h->nlmsg_flags & NLM_F_ACK_TLVS) ||
		    h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)) || e->error == 0) {
			continue;
		}
		/* with NETLINK_CAP_ACK the request is not echoed: the TLVs follow the header */
		off = (h->nlmsg_flags & NLM_F_CAPPED) ? sizeof(*e) : sizeof(*e) + e->msg.nlmsg_len -
									   sizeof(struct nlmsghdr);
		mnl_attr_for_each(a, h, off) {
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
				snprintf(nl->ext_msg, sizeof(nl->ext_msg), "%s", mnl_attr_get_str(a));
			}
		}
	}
}

static int run(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	ssize_t n;
	int rc;

	nl->ext_msg[0] = 0;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0) {
		return -errno;
	}
	do {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0) {
			return -errno;
		}
		rc = mnl_cb_run(nl->buf, (size_t)n, nl->seq, nl->portid, cb, arg);
		if (rc < 0) {
			int e = errno;

			keep_ext_ack(nl, (size_t)n);
			errno = e;
		}
	} while (rc > 0);
	return rc < 0 ? -errno : 0;
}

const char *nl_strerror(struct nl *nl, int rc)
{
	snprintf(nl->err, sizeof(nl->err), "%s%s%s%s", strerror(-rc), nl->ext_msg[0] ? " (kernel: " : "",
		 nl->ext_msg, nl->ext_msg[0] ? ")" : "");
	return nl->err;
}

/* Send one request and wait for its ACK. @return 0 or the kernel's -errno */
static int talk(struct nl *nl, struct nlmsghdr *nlh)
{
	return run(nl, nlh, NULL, NULL);
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

/* Send a dump request and hand every answer to @cb. @return 0 or -errno */
static int dump(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	return run(nl, nlh, cb, arg);
}

struct qlist {
	int ifindex;
	int (*cb)(const struct nlmsghdr *nlh, const struct nl_qdisc *q, void *arg);
	void *arg;
	int rc;
};

static int qdisc_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct qlist *ql = arg;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
	struct nl_qdisc q = { .parent = tcm->tcm_parent, .handle = tcm->tcm_handle };
	const struct nlattr *a;

	if (tcm->tcm_ifindex != ql->ifindex || ql->rc) {
		return MNL_CB_OK;
	}
	mnl_attr_for_each(a, nlh, sizeof(*tcm)) {
		if (mnl_attr_get_type(a) == TCA_KIND && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING)) {
			snprintf(q.kind, sizeof(q.kind), "%s", mnl_attr_get_str(a));
		}
	}
	ql->rc = ql->cb(nlh, &q, ql->arg);
	return MNL_CB_OK;
}

int nl_qdisc_list(struct nl *nl, int ifindex,
		  int (*cb)(const struct nlmsghdr *nlh, const struct nl_qdisc *q, void *arg), void *arg)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_GETQDISC, 0);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	struct qlist ql = { ifindex, cb, arg, 0 };
	int rc;

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	rc = dump(nl, nlh, qdisc_cb, &ql);
	return rc ? rc : ql.rc;
}

int nl_qdisc_del(struct nl *nl, int ifindex, uint32_t parent, uint32_t handle)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_DELQDISC, 0);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	tcm->tcm_handle = handle;
	return talk(nl, nlh);
}

int nl_qdisc_recreate(struct nl *nl, const void *msg, size_t len)
{
	const struct nlmsghdr *old = msg;
	const struct tcmsg *otcm;
	struct nlmsghdr *nlh;
	struct tcmsg *tcm;
	const struct nlattr *a;

	if (len < sizeof(*old) + sizeof(*otcm) || old->nlmsg_len != len ||
	    old->nlmsg_len > sizeof(nl->buf) - 64) {
		return -EINVAL;
	}
	otcm = mnl_nlmsg_get_payload(old);
	nlh = put_req(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	*tcm = *otcm;
	tcm->tcm_info = 0;
	/* the configuration only: the kind and its options, as the kernel reported them */
	mnl_attr_for_each(a, old, sizeof(*otcm)) {
		uint16_t t = mnl_attr_get_type(a);

		if (t == TCA_KIND || t == TCA_OPTIONS || t == TCA_INGRESS_BLOCK ||
		    t == TCA_EGRESS_BLOCK) {
			if (nlh->nlmsg_len + a->nla_len + 8 > sizeof(nl->buf)) {
				return -EINVAL;
			}
			mnl_attr_put(nlh, a->nla_type, mnl_attr_get_payload_len(a),
				     mnl_attr_get_payload(a));
		}
	}
	return talk(nl, nlh);
}

static struct nlmsghdr *qdisc_req(struct nl *nl, int ifindex, uint32_t parent, uint32_t handle,
				  const char *kind)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_parent = parent;
	tcm->tcm_handle = handle;
	mnl_attr_put_strz(nlh, TCA_KIND, kind);
	return nlh;
}

int nl_qdisc_fq(struct nl *nl, int ifindex, uint32_t parent, uint32_t handle,
		const struct nl_fq *p)
{
	struct nlmsghdr *nlh = qdisc_req(nl, ifindex, parent, handle, "fq");
	struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);

	if (p->flow_limit) {
		mnl_attr_put_u32(nlh, TCA_FQ_FLOW_PLIMIT, p->flow_limit);
	}
	if (p->limit) {
		mnl_attr_put_u32(nlh, TCA_FQ_PLIMIT, p->limit);
	}
	if (p->horizon_us) {
		mnl_attr_put_u32(nlh, TCA_FQ_HORIZON, p->horizon_us);
		mnl_attr_put_u8(nlh, TCA_FQ_HORIZON_DROP, 1);
	}
	if (p->timer_slack_ns) {
		mnl_attr_put_u32(nlh, TCA_FQ_TIMER_SLACK, p->timer_slack_ns);
	}
	mnl_attr_nest_end(nlh, o);
	return talk(nl, nlh);
}

int nl_qdisc_mq(struct nl *nl, int ifindex, uint32_t handle)
{
	return talk(nl, qdisc_req(nl, ifindex, TC_H_ROOT, handle, "mq"));
}

int nl_qdisc_mqprio(struct nl *nl, int ifindex, uint32_t handle, unsigned queues, int prio)
{
	struct nlmsghdr *nlh = qdisc_req(nl, ifindex, TC_H_ROOT, handle, "mqprio");
	struct tc_mqprio_qopt q = { .num_tc = 2, .hw = 0 };

	/* class 1 = the last queue, for priority @prio only; class 0 = the others (offsets rise) */
	q.prio_tc_map[prio & 15] = 1;
	q.count[0] = (uint16_t)(queues - 1);
	q.offset[0] = 0;
	q.count[1] = 1;
	q.offset[1] = (uint16_t)(queues - 1);
	mnl_attr_put(nlh, TCA_OPTIONS, sizeof(q), &q);
	return talk(nl, nlh);
}

int nl_qdisc_etf(struct nl *nl, int ifindex, uint32_t parent, uint32_t handle, int32_t delta_ns,
		 int offload)
{
	struct nlmsghdr *nlh = qdisc_req(nl, ifindex, parent, handle, "etf");
	struct nlattr *o = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	struct tc_etf_qopt q = { .delta = delta_ns, .clockid = CLOCK_TAI,
				 .flags = offload ? TC_ETF_OFFLOAD_ON : 0 };

	mnl_attr_put(nlh, TCA_ETF_PARMS, sizeof(q), &q);
	mnl_attr_nest_end(nlh, o);
	return talk(nl, nlh);
}

struct linkq {
	int ifindex;
	struct nl_link *out;
	int found;
};

static int link_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct linkq *lq = arg;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (ifm->ifi_index != lq->ifindex) {
		return MNL_CB_OK;
	}
	lq->found = 1;
	lq->out->flags = ifm->ifi_flags;
	lq->out->type = ifm->ifi_type;
	mnl_attr_for_each(a, nlh, sizeof(*ifm)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_NUM_TX_QUEUES:
			lq->out->tx_queues = mnl_attr_get_u32(a);
			break;
		case IFLA_IFNAME:
			snprintf(lq->out->name, sizeof(lq->out->name), "%s", mnl_attr_get_str(a));
			break;
		case IFLA_OPERSTATE:
			lq->out->operstate = mnl_attr_get_u8(a);
			break;
		case IFLA_LINKINFO: {
			const struct nlattr *b;

			mnl_attr_for_each_nested(b, a) {
				if (mnl_attr_get_type(b) == IFLA_INFO_KIND) {
					snprintf(lq->out->kind, sizeof(lq->out->kind), "%s",
						 mnl_attr_get_str(b));
				}
			}
			break;
		}
		}
	}
	return MNL_CB_OK;
}

int nl_link_get(struct nl *nl, int ifindex, struct nl_link *out)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_GETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	struct linkq lq = { ifindex, out, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	rc = run(nl, nlh, link_cb, &lq);	/* the answer, then the ACK */
	if (rc) {
		return rc;
	}
	return lq.found ? 0 : -ENODEV;
}

static int route_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct rtmsg)) {
		if (mnl_attr_get_type(a) == RTA_OIF) {
			*(int *)arg = (int)mnl_attr_get_u32(a);
		}
	}
	return MNL_CB_OK;
}

int nl_route_oif(struct nl *nl, int family, const void *dst)
{
	struct nlmsghdr *nlh = put_req(nl, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	int oif = 0, rc;

	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = family == AF_INET ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, dst);
	rc = run(nl, nlh, route_cb, &oif);	/* the answer, then the ACK */
	if (rc) {
		return rc;
	}
	return oif > 0 ? oif : -ENETUNREACH;
}

int nl_fd(const struct nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

struct nl *nl_open_groups(unsigned groups)
{
	struct nl *nl = calloc(1, sizeof(*nl));

	if (!nl) {
		return NULL;
	}
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl->sock || mnl_socket_bind(nl->sock, groups, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		nl_close(nl);
		errno = e;
		return NULL;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	/* the kernel then says why it refused a request ("Specified qdisc kind is unknown") */
	int one = 1;

	setsockopt(mnl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return nl;
}

static int event_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_link_event *ev = arg;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) {
		return MNL_CB_OK;
	}
	if (ifm->ifi_index == ev->ifindex) {
		ev->seen = 1;
		ev->deleted = nlh->nlmsg_type == RTM_DELLINK;
		ev->up = (ifm->ifi_flags & IFF_UP) && (ifm->ifi_flags & IFF_RUNNING);
	}
	return MNL_CB_OK;
}

int nl_link_events(struct nl *nl, struct nl_link_event *ev)
{
	ssize_t n;

	ev->seen = 0;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0) {
			return errno == EAGAIN ? 0 : -errno;
		}
		mnl_cb_run(nl->buf, (size_t)n, 0, 0, event_cb, ev);
	}
}
