/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The relay: an AES67/RTP input (an SDP file, a SAP-announced session, or GROUP:PORT) held in a
 * jitter buffer, anchored to this machine's PTP grid and sent again through the pacer as an
 * aes67 stream (its own SDP, SAP). Each output packet carries one input packet, bit for bit, or
 * silence; every input packet is counted once: used, late or dropped.
 *
 * Use: relay_open, relay_start, then relay_step whenever relay_poll_fds' descriptors are ready
 * or 100 ms have passed (or relay_run for all of that), relay_finish, relay_report and
 * relay_summary, relay_close.
 */
#ifndef TXPACE_RELAY_H
#define TXPACE_RELAY_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "txpace/profile.h"
#include "txpace/stop.h"

struct relay;

struct relay_cfg {
	const char *from;	/* an SDP file, sap:NAME (any session if NAME is ""), GROUP:PORT */
	const char *from_iface;	/* receive the input (and SAP) here; NULL: any */
	/*
	 * The output (the aes67 profile): dest_s, iface, ttl, dscp, ptp_*, require_lock,
	 * lock_timeout_ns, sap_interval_ns, session_name. For a GROUP:PORT input bits, rate,
	 * channels and ptime_ns (0: from the first packet) describe the input; the output always
	 * takes the input's format. Its stop is not used: see @stop.
	 */
	struct profile_opts out;
	int64_t link_offset_ns;	/* an input packet leaves this long after it arrived: 1 ms..1 s */
	int64_t seconds_ns;	/* of output, then the relay ends; 0: until *stop */
	int64_t sap_timeout_ns;	/* sap:NAME: wait this long for the announcement */
	/* the rt pacer (the receiver and producer threads run one priority below it) */
	int64_t spin_ns;
	int prio;		/* SCHED_FIFO priority, 0: normal scheduling */
	int cpu;		/* pin the pacer to this CPU, -1: no pinning */
	const txp_stop_flag *stop;	/* the caller's stop request; NULL: seconds_ns ends it */
};

/** Fill @cfg with the defaults (L24, 48 kHz, 2 channels, TTL 1, DSCP 34, 10 ms link offset...). */
void relay_cfg_init(struct relay_cfg *cfg);

/**
 * Find the input (sap:NAME waits for the announcement) and lock memory (mlockall) before
 * anything is timed. The strings in @cfg must outlive the relay.
 * @return the relay, or NULL with a one-line reason in @err
 */
struct relay *relay_open(const struct relay_cfg *cfg, char *err, size_t errlen);
/**
 * With the packet size known (the SDP's ptime, out.ptime_ns) the output first: the aes67
 * session (with require_lock, this waits for ptp4l's lock), the pacer, the grid and the
 * producer. Then the input is joined and received; without the size, the output starts in
 * relay_step once the first packet gave it.
 * @return 0, or -errno with a one-line reason in @err
 */
int relay_start(struct relay *r, char *err, size_t errlen);
/**
 * The descriptors to wait on before the next relay_step (the first input packet, before the
 * output runs). @return how many were written to @pfd (at most @max)
 */
int relay_poll_fds(struct relay *r, struct pollfd *pfd, int max);
/**
 * One service step on the caller's thread: start the output once the first input packet is
 * here (this may wait for the PTP lock), then the aes67 session's duties (SAP), the lock and
 * clock-step watch (re-anchor requests, the lines about them), and the stop request.
 * @return 1 while it runs (call again within 100 ms), 0 once the output has ended
 * (relay_finish), -EINTR when stopped before the output started (nothing to report), or
 * -errno with a one-line reason in @err
 */
int relay_step(struct relay *r, char *err, size_t errlen);
/** relay_step every 100 ms, sooner when a descriptor is ready, until it returns other than 1. */
int relay_run(struct relay *r, char *err, size_t errlen);
/**
 * After the output ended: join the threads, count what was never decided as dropped, end the
 * aes67 session (the SAP deletion).
 * @return 0 when every packet built was sent, -EIO when not
 */
int relay_finish(struct relay *r);
/** The JSON report (after relay_finish) to @f. */
void relay_report(struct relay *r, FILE *f);
/** The one-line text summary (after relay_finish) to @f. */
void relay_summary(struct relay *r, FILE *f);
/** Stop what still runs and free everything. NULL is a no-op. */
void relay_close(struct relay *r);

#endif
