// SPDX-License-Identifier: GPL-2.0-only
/*
 * The interface side of kernel pacing: root fq (mq + fq on a multi-queue link) or etf (mqprio +
 * etf), clsact and txpace's cls_bpf filter on egress, each journaled before it is made; and the
 * check that they are still there.
 */
#include <errno.h>
#include <linux/pkt_sched.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "kpace_int.h"
#include "txpace/nl.h"

struct save_ctx {
	struct kpace *k;
	char classful[32];	/* a configured qdisc whose classes txpace could not put back */
};

/* Qdiscs whose classes are made one by one (tc class add): the journal keeps qdiscs only. */
static int has_user_classes(const char *kind)
{
	static const char *const k[] = { "htb", "hfsc", "drr", "qfq", "cbq", "ets", "taprio", NULL };

	for (int i = 0; k[i]; i++) {
		if (!strcmp(kind, k[i])) {
			return 1;
		}
	}
	return 0;
}

static int save_qdisc(const struct nlmsghdr *nlh, const struct nl_qdisc *q, void *arg)
{
	struct save_ctx *sc = arg;

	if (!strcmp(q->kind, "clsact") || !strcmp(q->kind, "ingress")) {
		return 0;	/* not ours to save: txpace only ever adds a filter or a clsact */
	}
	if (q->handle && has_user_classes(q->kind) && !sc->classful[0]) {
		snprintf(sc->classful, sizeof(sc->classful), "%s", q->kind);
	}
	if (!sc->k) {
		return 0;
	}
	return kpace_journal_qdisc(sc->k, nlh, q);
}

/* What is on the interface now: txpace's root qdisc, a clsact (anyone's). */
struct intact {
	int root, clsact;
};

static int check_qdisc(const struct nlmsghdr *nlh, const struct nl_qdisc *q, void *arg)
{
	struct intact *in = arg;

	if (!strcmp(q->kind, "clsact")) {
		in->clsact = 1;
	} else if (q->parent == TC_H_ROOT && q->handle == TXP_HANDLE) {
		in->root = 1;
	}
	return 0;
}

static int has_clsact(struct nl *nl, int ifindex)
{
	struct intact in = { 0 };

	nl_qdisc_list(nl, ifindex, check_qdisc, &in);
	return in.clsact;
}

static uint32_t fq_flow_limit(const struct kpace_cfg *c)
{
	/* every packet handed over ahead of its time waits in the flow: twice that, at least 100 */
	uint64_t n = (uint64_t)(2 * c->lead_ns / c->ptime_ns) + 16;

	return n < 100 ? 100 : n > 100000 ? 100000 : (uint32_t)n;
}

/* Refuse a tree txpace could not restore, and journal the one there is (once). */
static int save_root(struct kpace *k, char *err, size_t errlen)
{
	struct save_ctx sc = { NULL, "" };
	int rc;

	/* first look: a tree with hand-made classes is not replaced (it could not be restored) */
	rc = nl_qdisc_list(k->nl, k->ifindex, save_qdisc, &sc);
	if (!rc && sc.classful[0]) {
		return kpace_fail(err, errlen, -EBUSY, "%s has a configured %s qdisc with classes, "
				  "which txpace could not restore exactly: remove it first, or use "
				  "--backend rt", k->ifname, sc.classful);
	}
	/*
	 * The tree as it was before txpace, once: a re-attach (someone deleted our fq) must not
	 * snapshot our own leftovers or add a second copy to re-create.
	 */
	if (!k->root_saved) {
		sc.k = k;
		rc = rc ? rc : nl_qdisc_list(k->nl, k->ifindex, save_qdisc, &sc);
		if (rc) {
			return kpace_fail(err, errlen, rc, "%s: cannot save its qdiscs in %s: %s",
					  k->ifname, k->state_path, strerror(-rc));
		}
		JOURNAL_OR_FAIL(k, err, errlen, "did root");
		k->root_saved = 1;
	}
	return 0;
}

static int install_fq(struct kpace *k, char *err, size_t errlen)
{
	const struct kpace_cfg *c = &k->cfg;
	struct nl_fq fq = {
		.flow_limit = fq_flow_limit(c),
		.horizon_us = c->fq_horizon_us,
		.timer_slack_ns = 1000,
	};
	int rc;

	if (k->tx_queues > 1) {
		rc = nl_qdisc_mq(k->nl, k->ifindex, TXP_HANDLE);
		for (unsigned q = 0; !rc && q < k->tx_queues; q++) {
			rc = nl_qdisc_fq(k->nl, k->ifindex, TXP_HANDLE | (q + 1), 0, &fq);
		}
	} else {
		rc = nl_qdisc_fq(k->nl, k->ifindex, TC_H_ROOT, TXP_HANDLE, &fq);
	}
	if (rc == -ENOENT || rc == -EOPNOTSUPP) {
		return kpace_fail(err, errlen, rc, "%s: this kernel has no fq qdisc "
				  "(CONFIG_NET_SCH_FQ; modprobe sch_fq): the edt backend needs it, "
				  "use --backend rt", k->ifname);
	}
	if (rc) {
		return kpace_fail(err, errlen, rc, "%s: cannot install fq: %s", k->ifname,
				  nl_strerror(k->nl, rc));
	}
	snprintf(k->desc, sizeof(k->desc), "%s fq (flow_limit %u, horizon %.3f s, "
		 "timer_slack 1 us)", k->tx_queues > 1 ? "mq +" : "root", fq.flow_limit,
		 (double)c->fq_horizon_us / 1e6);
	return 0;
}

/* etf: NIC launch time (offload) where the driver has it, else software etf */
static int install_etf(struct kpace *k, char *err, size_t errlen)
{
	const struct kpace_cfg *c = &k->cfg;
	uint32_t parent = TC_H_ROOT;
	int offload = 1, rc;

	if (k->tx_queues > 1) {
		rc = nl_qdisc_mqprio(k->nl, k->ifindex, TXP_HANDLE, k->tx_queues, ETF_PRIO);
		if (rc) {
			return kpace_fail(err, errlen, rc, "%s: cannot install mqprio for etf: %s",
					  k->ifname, nl_strerror(k->nl, rc));
		}
		parent = TXP_HANDLE | k->tx_queues;	/* the last queue's class */
	}
	rc = nl_qdisc_etf(k->nl, k->ifindex, parent, parent == TC_H_ROOT ? TXP_HANDLE : 0,
			  c->etf_delta_ns, 1);
	if (rc == -EOPNOTSUPP) {
		offload = 0;
		rc = nl_qdisc_etf(k->nl, k->ifindex, parent, parent == TC_H_ROOT ? TXP_HANDLE : 0,
				  c->etf_delta_ns, 0);
	}
	if (rc == -ENOENT) {
		return kpace_fail(err, errlen, rc, "%s: this kernel has no etf qdisc "
				  "(CONFIG_NET_SCH_ETF; modprobe sch_etf): the etf backend needs it",
				  k->ifname);
	}
	if (rc) {
		return kpace_fail(err, errlen, rc, "%s: cannot install etf: %s", k->ifname,
				  nl_strerror(k->nl, rc));
	}
	/*
	 * etf dequeues at txtime - delta. With offload the NIC then waits for txtime; in software
	 * the packet leaves at dequeue, so txpace asks for launch + delta (and etf drops it when
	 * its wake-up is more than delta late).
	 */
	k->txtime_offset = offload ? 0 : c->etf_delta_ns;
	snprintf(k->desc, sizeof(k->desc), "%setf CLOCK_TAI delta %d us, %s", parent == TC_H_ROOT ?
		 "root " : "mqprio + ", c->etf_delta_ns / 1000,
		 offload ? "offload (NIC launch time)" : "software (no launch-time offload on this NIC)");
	return 0;
}

int kpace_install_root(struct kpace *k, char *err, size_t errlen)
{
	int rc = save_root(k, err, errlen);

	if (rc) {
		return rc;
	}
	return k->cfg.qdisc == KPACE_QDISC_FQ ? install_fq(k, err, errlen)
					      : install_etf(k, err, errlen);
}

int kpace_attach_filter(struct kpace *k, char *err, size_t errlen)
{
	int existed = has_clsact(k->nl, k->ifindex), rc;

	/* clsact: ours to remove if it was not there; else only our filter is */
	/* (1: journaled "filter", 2: "clsact"; a clsact txpace re-adds later is journaled then) */
	if (!k->filter_saved || (k->filter_saved == 1 && !existed)) {
		JOURNAL_OR_FAIL(k, err, errlen, "%s", existed ? "did filter" : "did clsact");
		k->filter_saved = existed ? 1 : 2;
	}
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = k->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = k->prog_fd, .handle = TXP_FILTER_HANDLE,
		    .priority = TXP_FILTER_PRIO, .flags = BPF_TC_F_REPLACE);
	if (!existed) {
		rc = bpf_tc_hook_create(&hook);
		if (rc && rc != -EEXIST) {
			return kpace_fail(err, errlen, rc, "%s: cannot add clsact: %s", k->ifname,
					  strerror(-rc));
		}
	}
	rc = bpf_tc_attach(&hook, &o);
	if (rc) {
		return kpace_fail(err, errlen, rc, "%s: cannot attach the egress program (cls_bpf): "
				  "%s", k->ifname, strerror(-rc));
	}
	return 0;
}

int kpace_setup_intact(struct kpace *k)
{
	struct intact in = { 0 };

	nl_qdisc_list(k->nl, k->ifindex, check_qdisc, &in);
	return (k->cfg.qdisc == KPACE_QDISC_KEEP || in.root) && (!k->skel || in.clsact);
}

int kpace_reattach(struct kpace *k)
{
	struct intact in = { 0 };
	char err[256];
	int rc = 0;

	nl_qdisc_list(k->nl, k->ifindex, check_qdisc, &in);
	if (k->cfg.qdisc != KPACE_QDISC_KEEP && !in.root) {
		char desc[sizeof(k->desc)];

		memcpy(desc, k->desc, sizeof(desc));
		rc = kpace_install_root(k, err, sizeof(err));
		memcpy(k->desc, desc, sizeof(desc));
	}
	if (!rc && k->skel && !in.clsact) {
		rc = kpace_attach_filter(k, err, sizeof(err));
	}
	return rc;
}
