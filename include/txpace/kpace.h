/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel pacing control plane: root fq (or mq + fq, or etf), clsact + the egress program, the
 * deadline watchdog, maps pinned under /sys/fs/bpf/txpace/<if>/. Every change is written to
 * /run/txpace/<if>.state before it is made and undone exactly on close, or by kpace_cleanup()
 * after a crash. One process per interface (a lock).
 */
#ifndef TXPACE_KPACE_H
#define TXPACE_KPACE_H

#include <stddef.h>
#include <stdint.h>

#include "txpace_abi.h"

#define KPACE_STATE_DIR "/run/txpace"
#define KPACE_PIN_DIR "/sys/fs/bpf/txpace"

enum kpace_qdisc { KPACE_QDISC_KEEP, KPACE_QDISC_FQ, KPACE_QDISC_ETF };

struct kpace_cfg {
	const char *ifname;		/* NULL: the interface the socket's destination routes through */
	enum kpace_qdisc qdisc;
	int bpf_stamp;			/* the egress program stamps departure times (else SO_TXTIME) */
	int watch;			/* the deadline watchdog + driver hand-off tracepoint */
	int64_t ptime_ns, lead_ns, grace_ns;
	uint32_t fq_horizon_us;		/* 0: chosen from the lead */
	int32_t etf_delta_ns;
	int powersave_off;		/* Wi-Fi: turn power save off for the stream (nl80211) */
	/* what the stream's session also sends without launch times here ("RTSP and PTP"), or NULL */
	const char *untimed;
};

struct kpace;

/**
 * Set up kernel pacing for the connected UDP socket @fd.
 * @return the handle, or NULL with a one-line reason in @err (everything already undone)
 */
struct kpace *kpace_open(const struct kpace_cfg *cfg, int fd, char *err, size_t errlen);
/** Undo every change (qdiscs, filter, pins, power save) and release the interface. */
void kpace_close(struct kpace *k);
const char *kpace_ifname(const struct kpace *k);
/** Add this to SO_TXTIME times (software etf leaves delta before its txtime). */
int64_t kpace_txtime_offset(const struct kpace *k);
/** What was set up, for the summary ("root fq (flow_limit 100, horizon 2 s), cls_bpf ..."). */
const char *kpace_describe(const struct kpace *k);
/** Publish packet @seq's CLOCK_MONOTONIC launch time to the schedule ring (no syscall). */
void kpace_publish(struct kpace *k, uint16_t seq, uint64_t launch_mono);
/** Wait until the watchdog has passed the last published deadline; read its last events. */
void kpace_settle(struct kpace *k);
/** Read slot @seq back (what the kernel saw). @return 0, -ENOENT when it was overwritten */
int kpace_slot(const struct kpace *k, uint16_t seq, struct txp_slot *out);
/** The flow's counters. @return 0 or -errno */
int kpace_flow(const struct kpace *k, struct txp_flow *out);
/** The watchdog's counters (@return -ENOENT without a watchdog). */
int kpace_wstats(const struct kpace *k, struct txp_wstats *out);
/** Times the tracepoint's skb->data offset was found wrong (no hand-offs seen) and found again. */
unsigned kpace_recalibrations(const struct kpace *k);
/**
 * Follow the link and the watchdog's events; call a few times a second.
 * @return 1 with a message for the user in @msg, 0 when there is nothing to say
 */
int kpace_poll(struct kpace *k, char *msg, size_t len);
/** Number of missed-deadline events read from the ring buffer so far. */
uint64_t kpace_events(const struct kpace *k);
/** Of those, packets that never reached the egress program (dropped before tc). */
uint64_t kpace_events_unstamped(const struct kpace *k);
/** One line for the user (no newline) from kpace_cleanup(), with the caller's @arg. */
typedef void kpace_say_fn(void *arg, const char *line);
/**
 * `txpace cleanup`: restore interfaces a crashed txpace left changed (@ifname NULL: all).
 * @say: told each thing done or left alone, a line at a time (NULL: nothing is said)
 * @return the number of interfaces restored, or -errno
 */
int kpace_cleanup(const char *ifname, kpace_say_fn *say, void *arg);
/** @return 1 when bpf_timer takes BPF_F_TIMER_ABS here (loads a test program), else 0 */
int kpace_probe_timer_abs(char *why, size_t len);

#endif
