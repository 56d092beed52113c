/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the kernel control plane (user/kernel/, not a public header): the handle and what its
 * files share. kpace.c opens and closes a handle, polls it and reads its counters; journal.c
 * keeps the restore journal, the interface's lock and `txpace cleanup`; qdisc.c sets up the root
 * qdisc, clsact and the egress filter; bpf_load.c loads, pins and attaches the BPF objects.
 */
#ifndef TXPACE_KPACE_INT_H
#define TXPACE_KPACE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "txpace/kpace.h"

#define TXP_HANDLE 0x74700000u	/* "tp": the major handle of the qdiscs txpace creates */
#define TXP_FILTER_PRIO 0x7470
#define TXP_FILTER_HANDLE 0x7470
#define ETF_PRIO 6		/* socket priority mapped to the etf queue under mqprio */

struct nl;
struct nl_qdisc;
struct nlmsghdr;
struct tc_egress;
struct xmit_btf;
struct ring_buffer;
struct bpf_link;

struct kpace {
	struct kpace_cfg cfg;
	char ifname[32], key[64], state_path[128], pin_dir[160], desc[256];
	char tag[8];	/* "": the interface's pacing journal; "ptp": hwts.c's (key "<if>+ptp") */
	int ifindex, lock_fd, state_fd;
	unsigned tx_queues;
	unsigned l3_off;	/* bytes before the IP header at tc egress (link type) */
	int root_saved, filter_saved;	/* journaled once: a re-attach adds no second copy */
	struct nl *nl, *events_nl;
	struct tc_egress *skel;
	struct bpf_link *tp_link;	/* the hand-off program's attachment (either kind) */
	struct xmit_btf *btf_skel;	/* the tp_btf hand-off program, where the kernel has BTF */
	struct ring_buffer *rb;
	struct txp_slot *ring;
	struct txp_flow_key flow_key;
	int flows_fd, wstats_fd, conf_fd;
	uint64_t nevents, nevents_unstamped;
	int64_t next_verify;		/* next check of the tracepoint's skb->data offset */
	uint64_t verify_stamped, verify_seen;	/* the counters at the last check */
	uint64_t last_published;	/* the latest launch time in the ring (MONOTONIC) */
	char event_msg[160];
	int link_down;
	int timer;		/* the deadline watchdog runs (bpf_timer with BPF_F_TIMER_ABS) */
	unsigned tp_psize;	/* the tracepoint record's pointer size, 8 or 4 (0: neither layout) */
	int tp_rc;		/* else why not: -errno, and tp_why */
	char tp_why[200];
	int64_t txtime_offset;	/* software etf dequeues delta early: times are shifted by delta */
	int prog_fd;		/* the egress program attached */
	int64_t next_check;	/* when to check that our qdisc and filter are still there */
};

/* kpace.c */

/** Write a one-line error into @err. @return @rc */
int kpace_fail(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* journal.c: the state journal (/run/txpace/<key>.state) and the interface's lock */

/**
 * Take the interface's lock (its key names the network namespace too), restore what an earlier
 * txpace left changed, and start the journal. @return 0 or -errno with @err
 */
int kpace_state_open(struct kpace *k, char *err, size_t errlen);
/** Undo everything the journal holds and give the lock back (the journal stays if that fails). */
void kpace_state_close(struct kpace *k);
/**
 * Append a line to the journal and wait until it is on disk: a change is made only after its
 * line is there. @return 0 or -errno (-ENOSPC on a full /run)
 */
int kpace_journal(struct kpace *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Journal one qdisc as nl_qdisc_list() reported it (@nlh re-creates it on restore). */
int kpace_journal_qdisc(struct kpace *k, const struct nlmsghdr *nlh, const struct nl_qdisc *q);

/* kpace_journal() or a one-line error that the change is not made */
#define JOURNAL_OR_FAIL(k, err, errlen, ...)                                                      \
	do {                                                                                      \
		int jrc_ = kpace_journal(k, __VA_ARGS__);                                          \
		if (jrc_) {                                                                        \
			return kpace_fail(err, errlen, jrc_, "cannot write %s (%s): nothing more is " \
					  "changed", (k)->state_path, strerror(-jrc_));            \
		}                                                                                  \
	} while (0)

/* hwts.c: the interface's hardware timestamping (SIOCSHWTSTAMP), for the restore. @return 0 or -errno */
int kpace_hwtstamp_set(const char *ifname, int tx_type, int rx_filter);

/* qdisc.c: the root qdisc (fq, mq + fq, etf, mqprio + etf), clsact and the egress filter */

/** Journal the tree as it is (once), then install the configured root. @return 0 or -errno */
int kpace_install_root(struct kpace *k, char *err, size_t errlen);
/** clsact (journaled when txpace creates it) + txpace's cls_bpf filter on egress. */
int kpace_attach_filter(struct kpace *k, char *err, size_t errlen);
/** @return 1 when our root qdisc and clsact are still there */
int kpace_setup_intact(struct kpace *k);
/** Someone (or a driver reset) removed our setup: put it back. @return 0 or -errno */
int kpace_reattach(struct kpace *k);

/* bpf_load.c: the egress program, the watchdog, the hand-off tracepoint, maps and pins */

/** Load, register the flow of socket @fd, pin, attach (the filter too). @return 0 or -errno */
int kpace_load_bpf(struct kpace *k, int fd, char *err, size_t errlen);
/** Detach and free the BPF objects (the pins and the filter are the journal's to undo). */
void kpace_bpf_free(struct kpace *k);
/** Once a second: is the tracepoint's skb->data offset still right? (found again if not) */
void kpace_verify_data_off(struct kpace *k);
/**
 * The record layout of the net:net_dev_start_xmit tracepoint in the format file @path (NULL:
 * tracefs's, mounted, or $TXPACE_TP_FORMAT). @return the kernel's pointer size it implies (8 or
 * 4), or -errno (-EPROTO: a layout that is neither, @why names the field)
 */
int kpace_tp_layout(const char *path, char *why, size_t len);
/** Remove the pins under @dir, the directory, and the pin root when it is empty. */
void kpace_rm_pins(const char *dir);

#endif
