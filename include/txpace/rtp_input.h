/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An AES67/RTP input: the stream an SDP file, a SAP announcement or GROUP:PORT names, received
 * by a thread of its own into a jitter buffer (txpace/jbuf.h) that one consumer decides from.
 * Every packet of the stream is counted once: used, late or dropped.
 */
#ifndef TXPACE_RTP_INPUT_H
#define TXPACE_RTP_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "txpace/jbuf.h"
#include "txpace/sdp.h"
#include "txpace/stop.h"

struct rtp_input;

struct rtp_input_cfg {
	const char *from;	/* an SDP file, sap:NAME (any session if NAME is ""), GROUP:PORT */
	const char *iface;	/* receive the input (and SAP) here; NULL: any */
	/* GROUP:PORT: the format (no SDP says it); ptime_ns 0: from the first packet */
	unsigned bits;
	long rate, channels;
	int64_t ptime_ns;
	int64_t sap_timeout_ns;	/* sap:NAME: wait this long for the announcement */
	const txp_stop_flag *stop;	/* ends the wait for the announcement */
	int prio;		/* the receiver thread's SCHED_FIFO priority, 0: normal */
	/*
	 * Receiver thread: the input restarted on another timeline (a run of late packets, each a
	 * packet time after the one before); @arrival is the last one's (CLOCK_REALTIME).
	 */
	void (*on_restart)(void *arg, int64_t arrival);
	void *arg;
};

/* An input packet as it arrived. */
struct rtp_input_pkt {
	uint16_t seq;
	uint32_t ts;		/* its RTP time */
	int64_t arrival;	/* CLOCK_REALTIME */
};

struct rtp_input_stats {
	uint64_t packets;	/* == used + late + dropped once the receiver and consumer ended */
	uint64_t used, late, dropped;
	uint64_t invalid;	/* not RTP, another payload type, another size */
	uint64_t other_ssrc;	/* not the stream's first SSRC */
	uint64_t refused;	/* not from the SDP's source-filter source */
};

/**
 * Find the input: read the SDP, wait for the SAP announcement (until cfg->sap_timeout_ns or a
 * stop), or take GROUP:PORT and the format from @cfg. Nothing is received yet.
 * @return the input, or NULL with a one-line reason in @err
 */
struct rtp_input *rtp_input_open(const struct rtp_input_cfg *cfg, char *err, size_t errlen);
/** Join the input and start the receiver thread. @return 0, or -errno with the reason in @err */
int rtp_input_start(struct rtp_input *in, char *err, size_t errlen);
/** Ask the receiver thread to end (it does within 100 ms); rtp_input_join() waits for it. */
void rtp_input_halt(struct rtp_input *in);
void rtp_input_join(struct rtp_input *in);
/** Halt and join the receiver (if started), close and free. NULL is a no-op. */
void rtp_input_free(struct rtp_input *in);

/** The input's description: encoding, rate, channels, pt (255: any), source filter. */
const struct sdp_in *rtp_input_desc(const struct rtp_input *in);
/** @return the source-filter source the receiver applies, or "" */
const char *rtp_input_source_filter(const struct rtp_input *in);
/** @return bytes per frame (all channels) */
uint32_t rtp_input_frame_bytes(const struct rtp_input *in);
/** @return the payload size, 0 until the first packet when the SDP (or ptime) does not give it */
uint32_t rtp_input_payload_len(const struct rtp_input *in);
/** An eventfd, readable once the first packet is stored (never read: it stays readable). */
int rtp_input_first_fd(const struct rtp_input *in);
/** @return 0 with the first packet stored in @p, -ENOENT before it */
int rtp_input_first(struct rtp_input *in, struct rtp_input_pkt *p);
/** @return 0 with the newest packet in @p, -ENOENT before the first */
int rtp_input_latest(struct rtp_input *in, struct rtp_input_pkt *p);

/** The jitter buffer the receiver stores into: its one consumer decides from it. */
struct jbuf *rtp_input_jbuf(struct rtp_input *in);
void rtp_input_stats(const struct rtp_input *in, struct rtp_input_stats *st);

#endif
