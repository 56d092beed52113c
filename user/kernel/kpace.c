// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel pacing control plane: open (the interface, its lock and journal, socket options, the
 * root qdisc, the BPF objects, Wi-Fi power save, in that order) and close, what was set up, the
 * schedule ring, the counters, and following the link. The journal is journal.c's, the qdiscs
 * and the filter qdisc.c's, the BPF objects bpf_load.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/net_tstamp.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kpace_int.h"
#include "txpace/caps.h"
#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/nl.h"
#include "txpace/wifi.h"

int kpace_fail(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

/* Append to what was set up (the summary's "kernel:" line). */
static __attribute__((format(printf, 2, 3))) void desc_add(struct kpace *k, const char *fmt, ...)
{
	size_t l = strlen(k->desc);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->desc + l, sizeof(k->desc) - l, fmt, ap);
	va_end(ap);
}

/* ---- the handle ---- */

/* The queues in use (sysfs queues/tx-N), not the allocated ones netlink reports. */
static unsigned real_tx_queues(const char *ifname, unsigned allocated)
{
	char path[128];
	unsigned n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d) {
		return allocated ? allocated : 1;
	}
	while ((e = readdir(d))) {
		n += !strncmp(e->d_name, "tx-", 3);
	}
	closedir(d);
	return n ? n : 1;
}

/*
 * Where the IP header starts at tc egress on a link of @type (ARPHRD_*): after the Ethernet
 * header on Ethernet-like links (loopback too), at once on L3 links (tun, WireGuard, ppp, ipip,
 * gre, sit: no link-layer header). @return the offset, or -1 for a link txpace cannot parse.
 */
static int link_l3_off(unsigned type)
{
	switch (type) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return ETH_HLEN;
	case ARPHRD_NONE:	/* tun (IFF_TUN), WireGuard */
	case ARPHRD_PPP:
	case ARPHRD_RAWIP:
	case ARPHRD_TUNNEL:	/* ipip */
	case ARPHRD_TUNNEL6:	/* ip6tnl */
	case ARPHRD_IPGRE:
	case ARPHRD_SIT:
		return 0;
	default:
		return -1;
	}
}

/* The interface: named in the configuration, else the one socket @fd's destination routes through. */
static int find_iface(struct kpace *k, int fd, char *err, size_t errlen)
{
	struct sockaddr_storage d;
	socklen_t dl = sizeof(d);
	int rc;

	if (k->cfg.ifname) {
		k->ifindex = (int)if_nametoindex(k->cfg.ifname);
		if (!k->ifindex) {
			return kpace_fail(err, errlen, -ENODEV, "no interface %s", k->cfg.ifname);
		}
		return 0;
	}
	if (getpeername(fd, (struct sockaddr *)&d, &dl)) {
		return kpace_fail(err, errlen, -errno, "the socket is not connected");
	}
	rc = d.ss_family == AF_INET
		     ? nl_route_oif(k->nl, AF_INET, &((struct sockaddr_in *)&d)->sin_addr)
		     : nl_route_oif(k->nl, AF_INET6, &((struct sockaddr_in6 *)&d)->sin6_addr);
	if (rc < 0) {
		return kpace_fail(err, errlen, rc, "no route to the destination: %s", strerror(-rc));
	}
	k->ifindex = rc;
	return 0;
}

/* Its name, queues and link type; it must be up. */
static int read_link(struct kpace *k, char *err, size_t errlen)
{
	struct nl_link link;
	int rc;

	rc = nl_link_get(k->nl, k->ifindex, &link);
	if (rc) {
		return kpace_fail(err, errlen, rc, "interface %d: %s", k->ifindex, strerror(-rc));
	}
	snprintf(k->ifname, sizeof(k->ifname), "%s", link.name);
	k->tx_queues = real_tx_queues(k->ifname, link.tx_queues);
	if (k->ifindex == 1) {
		k->tx_queues = 1;	/* loopback */
	}
	if (!(link.flags & IFF_UP)) {
		return kpace_fail(err, errlen, -ENETDOWN, "%s is down", k->ifname);
	}
	rc = link_l3_off(link.type);
	if (rc < 0 && k->cfg.bpf_stamp) {
		return kpace_fail(err, errlen, -EPROTONOSUPPORT, "%s is a link of type %u, whose "
				  "packets the egress program cannot parse: use --stamp txtime or "
				  "--backend rt", k->ifname, link.type);
	}
	k->l3_off = rc < 0 ? 0 : (unsigned)rc;
	if (k->cfg.qdisc == KPACE_QDISC_ETF && k->tx_queues == 1 && k->cfg.untimed) {
		/* etf drops what carries no launch time; with one queue there is no other class */
		return kpace_fail(err, errlen, -EOPNOTSUPP, "%s has one TX queue: etf would be its "
				  "root qdisc and drop every packet without a launch time, this "
				  "session's %s too; use --backend edt, or a NIC with several TX queues "
				  "(mqprio + etf)", k->ifname, k->cfg.untimed);
	}
	if (k->cfg.qdisc == KPACE_QDISC_ETF && k->tx_queues == 1) {
		pr_warn("%s has one TX queue: etf is its root qdisc while the stream runs and drops "
			"every other packet sent on it (ARP, ptp4l, ssh: nothing else has a launch "
			"time); a NIC with several TX queues gets mqprio + etf instead", k->ifname);
	}
	return 0;
}

/* SO_TXTIME (and the etf queue's priority) where the socket stamps: before the interface changes. */
static int set_txtime(struct kpace *k, int fd, char *err, size_t errlen)
{
	const struct kpace_cfg *cfg = &k->cfg;
	struct sock_txtime t = { .clockid = cfg->qdisc == KPACE_QDISC_ETF ? CLOCK_TAI : CLOCK_MONOTONIC,
				 .flags = SOF_TXTIME_REPORT_ERRORS };
	int prio = ETF_PRIO;

	if (!(cfg->qdisc == KPACE_QDISC_ETF || (cfg->qdisc == KPACE_QDISC_FQ && !cfg->bpf_stamp))) {
		return 0;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_TXTIME, &t, sizeof(t))) {
		return kpace_fail(err, errlen, -errno, "SO_TXTIME refused: %s", strerror(errno));
	}
	if (cfg->qdisc == KPACE_QDISC_ETF && k->tx_queues > 1 &&
	    setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio))) {
		return kpace_fail(err, errlen, -errno, "SO_PRIORITY refused: %s", strerror(errno));
	}
	return 0;
}

/* Wi-Fi power save off for the stream, journaled first (a failure to turn it off is a warning). */
static int powersave_off(struct kpace *k, char *err, size_t errlen)
{
	int old = wifi_get_powersave(k->ifindex), rc;

	if (old != 1) {
		return 0;
	}
	JOURNAL_OR_FAIL(k, err, errlen, "did powersave %d", old);
	rc = wifi_set_powersave(k->ifindex, 0);
	if (rc) {
		pr_warn("%s: cannot turn Wi-Fi power save off: %s", k->ifname, strerror(-rc));
	} else {
		desc_add(k, ", Wi-Fi power save off");
	}
	return 0;
}

struct kpace *kpace_open(const struct kpace_cfg *cfg, int fd, char *err, size_t errlen)
{
	struct kpace *k = calloc(1, sizeof(*k));

	if (!k) {
		kpace_fail(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	k->cfg = *cfg;
	k->lock_fd = k->state_fd = -1;
	if (!k->cfg.fq_horizon_us) {
		/* far above the lead (a late hand-off is not a drop), far below fq's 10 s */
		int64_t h = 4 * k->cfg.lead_ns > NSEC_PER_SEC ? 4 * k->cfg.lead_ns : NSEC_PER_SEC;

		k->cfg.fq_horizon_us = (uint32_t)(h / 1000);
	}
	k->nl = nl_open();
	if (!k->nl) {
		kpace_fail(err, errlen, -errno, "netlink: %s", strerror(errno));
		goto bad;
	}
	/* the interface, its lock and journal, then socket options before anything on it changes */
	if (find_iface(k, fd, err, errlen) || read_link(k, err, errlen) ||
	    kpace_state_open(k, err, errlen) || set_txtime(k, fd, err, errlen)) {
		goto bad;
	}
	if (cfg->qdisc != KPACE_QDISC_KEEP) {
		if (kpace_install_root(k, err, errlen)) {
			goto bad;
		}
	} else {
		snprintf(k->desc, sizeof(k->desc), "root qdisc untouched");
	}
	if (cfg->bpf_stamp || cfg->watch) {
		if (kpace_load_bpf(k, fd, err, errlen)) {
			goto bad;
		}
		desc_add(k, ", %s on clsact egress%s%s, maps in %s",
			 k->timer ? "txp_egress_watch" : "txp_egress",
			 k->timer ? " + deadline watchdog + net_dev_start_xmit"
				  : cfg->watch ? " + net_dev_start_xmit (no watchdog)" : "",
			 !cfg->watch ? "" : k->btf_skel ? " (tp_btf)" : " (tracepoint)", k->pin_dir);
	} else if (cfg->qdisc != KPACE_QDISC_KEEP) {
		/* (rt with only power save to change sets no SO_TXTIME: set_txtime) */
		desc_add(k, ", SO_TXTIME %s",
			 cfg->qdisc == KPACE_QDISC_ETF ? "CLOCK_TAI" : "CLOCK_MONOTONIC");
	}
	if (cfg->powersave_off && powersave_off(k, err, errlen)) {
		goto bad;
	}
	k->events_nl = nl_open_groups(RTMGRP_LINK);
	return k;
bad:
	kpace_close(k);
	return NULL;
}

/* What the restore and a re-attach change: raised around them (kept permitted, see caps.h). */
#define KPACE_CAPS (CAPS_BIT(CAP_NET_ADMIN) | CAPS_BIT(CAP_SYS_ADMIN))

static int reattach(struct kpace *k)
{
	uint64_t saved;
	int rc;

	caps_raise(KPACE_CAPS, &saved);
	rc = kpace_reattach(k);
	caps_restore(saved);
	return rc;
}

void kpace_close(struct kpace *k)
{
	uint64_t saved;

	if (!k) {
		return;
	}
	caps_raise(KPACE_CAPS, &saved);
	kpace_bpf_free(k);
	kpace_state_close(k);
	caps_restore(saved);
	nl_close(k->nl);
	nl_close(k->events_nl);
	free(k);
}

int64_t kpace_txtime_offset(const struct kpace *k)
{
	return k->txtime_offset;
}

const char *kpace_ifname(const struct kpace *k)
{
	return k->ifname;
}

const char *kpace_describe(const struct kpace *k)
{
	return k->desc;
}

void kpace_publish(struct kpace *k, uint16_t seq, uint64_t launch_mono)
{
	struct txp_slot *s;

	if (!k->ring) {
		return;	/* SO_TXTIME or etf without --watch: no schedule ring */
	}
	s = &k->ring[seq % TXP_RING_SLOTS];
	/* invalidate, fill, then publish: the egress program checks flags and seq together */
	__atomic_store_n(&s->flags, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->launch_ns = launch_mono;
	s->egress_ns = s->txtime_ns = s->xmit_ns = 0;
	s->seq = seq;
	__atomic_store_n(&s->flags, TXP_SLOT_VALID, __ATOMIC_RELEASE);
	k->last_published = launch_mono;
}

void kpace_settle(struct kpace *k)
{
	if (k->timer && k->last_published) {
		struct timespec ts = ns_to_ts((int64_t)k->last_published + k->cfg.grace_ns +
					      2 * NSEC_PER_MSEC);

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
		}
	}
	if (k->rb) {
		ring_buffer__consume(k->rb);
	}
}

int kpace_slot(const struct kpace *k, uint16_t seq, struct txp_slot *out)
{
	if (!k->ring) {
		return -ENOENT;
	}
	*out = k->ring[seq % TXP_RING_SLOTS];
	return out->seq == seq && (out->flags & TXP_SLOT_VALID) ? 0 : -ENOENT;
}

int kpace_flow(const struct kpace *k, struct txp_flow *out)
{
	if (!k->skel) {
		return -ENOENT;
	}
	return bpf_map_lookup_elem(k->flows_fd, &k->flow_key, out) ? -errno : 0;
}

int kpace_wstats(const struct kpace *k, struct txp_wstats *out)
{
	uint32_t zero = 0;

	if (!k->skel || !k->cfg.watch) {
		return -ENOENT;
	}
	return bpf_map_lookup_elem(k->wstats_fd, &zero, out) ? -errno : 0;
}

unsigned kpace_recalibrations(const struct kpace *k)
{
	struct txp_conf c;
	uint32_t zero = 0;

	if (!k->skel || bpf_map_lookup_elem(k->conf_fd, &zero, &c)) {
		return 0;
	}
	return c.recalibrations;
}

uint64_t kpace_events(const struct kpace *k)
{
	return k->nevents;
}

uint64_t kpace_events_unstamped(const struct kpace *k)
{
	return k->nevents_unstamped;
}

int kpace_poll(struct kpace *k, char *msg, size_t len)
{
	struct nl_link_event ev = { .ifindex = k->ifindex };

	msg[0] = 0;
	if (k->rb) {
		uint64_t before = k->nevents;

		ring_buffer__consume(k->rb);
		if (k->nevents != before) {
			snprintf(msg, len, "%s%s", k->event_msg,
				 k->nevents - before > 1 ? " (and more)" : "");
			return 1;
		}
	}
	/* every 2 s: is the setup still there? (a `tc qdisc del`, a driver reset) */
	int64_t now = mono_ns();

	if (k->tp_link && !k->btf_skel && now >= k->next_verify) {
		k->next_verify = now + NSEC_PER_SEC;
		kpace_verify_data_off(k);
	}

	if (!k->link_down && now >= k->next_check) {
		k->next_check = now + 2 * NSEC_PER_SEC;
		if (!kpace_setup_intact(k)) {
			int rc = reattach(k);

			snprintf(msg, len, rc ? "txpace's qdisc or egress filter was removed from %s and "
				 "could not be put back (%s): packets leave unpaced" :
				 "txpace's qdisc or egress filter was removed from %s: re-attached", k->ifname,
				 strerror(-rc));
			return 1;
		}
	}
	if (!k->events_nl || nl_link_events(k->events_nl, &ev) || !ev.seen) {
		return 0;
	}
	if (ev.deleted) {
		snprintf(msg, len, "%s was removed: packets cannot leave", k->ifname);
		k->link_down = 1;
		return 1;
	}
	if (!ev.up && !k->link_down) {
		k->link_down = 1;
		snprintf(msg, len, "%s went down: packets are dropped until it is back", k->ifname);
		return 1;
	}
	if (ev.up && k->link_down) {
		k->link_down = 0;
		if (kpace_setup_intact(k)) {
			snprintf(msg, len, "%s is up again; the pacing setup survived (%s)", k->ifname,
				 k->skel ? "qdisc and egress program in place" : "qdisc in place");
		} else {
			int rc = reattach(k);

			snprintf(msg, len, rc ? "%s is up again but txpace's qdisc or filter is gone and "
				 "could not be put back (%s): packets leave unpaced" :
				 "%s is up again; txpace's qdisc and filter were gone: re-attached",
				 k->ifname, strerror(-rc));
		}
		return 1;
	}
	return 0;
}
