/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AirPlay 2 realtime control-port packets (PROTOCOLS.md, "Control port"): the 0xD7 anchor that
 * maps RTP time to PTP time, the receiver's 0xD5 resend request and our 0xD6 answer.
 */
#ifndef TXPACE_AP2CTL_H
#define TXPACE_AP2CTL_H

#include <stddef.h>
#include <stdint.h>

#define AP2CTL_ANCHOR 0xd7
#define AP2CTL_RESEND_REQ 0xd5
#define AP2CTL_RESEND_REPLY 0xd6
#define AP2CTL_ANCHOR_LEN 28
#define AP2CTL_RESEND_REQ_LEN 8
#define AP2CTL_RESEND_HDR 4	/* a 0xD6 answer is these 4 bytes + the original RTP packet */
/* f2 - f1 in an anchor as senders send it; the receiver adds its own 11035 frames */
#define AP2CTL_LATENCY_FRAMES 77175
#define AP2CTL_RECEIVER_LEAD 11035

struct ap2ctl_anchor {
	int first;		/* 1: the session's first anchor (0x90: shairport-sync's "sentinel") */
	uint32_t rtp;		/* f1, RTP time */
	uint64_t ptp_ns;	/* the PTP time the anchor refers to */
	uint32_t latency;	/* f2 - f1; 0 in a build: AP2CTL_LATENCY_FRAMES */
	uint8_t clock_id[8];	/* the PTP master's clock identity (aptp_clock_id) */
};

/** Build a 0xD7 anchor into @b (room for AP2CTL_ANCHOR_LEN). @return AP2CTL_ANCHOR_LEN */
size_t ap2ctl_build_anchor(uint8_t *b, const struct ap2ctl_anchor *an);
/** Parse an anchor (for test peers and the fuzz target). @return 0 or -EINVAL */
int ap2ctl_parse_anchor(const uint8_t *b, size_t len, struct ap2ctl_anchor *an);

struct ap2ctl_resend {
	uint16_t first, count;
};

/* Why a control packet from the receiver was ignored (counted by ap2ctl_parse_resend). */
struct ap2ctl_rx_counts {
	uint64_t resend_reqs;	/* well-formed 0xD5 requests */
	uint64_t bad_length;	/* 0xD5 with another length than 8 */
	uint64_t bad_header;	/* 0xD5 whose byte 0 is not 0x80 (RTP v2, no padding/extension) */
	uint64_t zero_count;	/* a request for 0 packets */
	uint64_t other_type;	/* not 0xD5 at all (0xD4 and the like: only logged by receivers) */
};

/**
 * Parse a receiver's 0xD5 resend request: exactly 8 bytes, 80 D5 <u16 its own sequence number>
 * <u16 first seq> <u16 count>. Anything else is ignored, and counted in @c (may be NULL).
 * @return 0 with @rq filled, or -EINVAL
 */
int ap2ctl_parse_resend(const uint8_t *b, size_t len, struct ap2ctl_resend *rq,
			struct ap2ctl_rx_counts *c);
/**
 * Build a 0xD6 answer: 80 D6 <u16 @seq> + the original RTP packet @pkt (@len bytes), into @out
 * (room for @cap). @return the length, or -ENOSPC
 */
int ap2ctl_build_resend_reply(uint8_t *out, size_t cap, uint16_t seq, const uint8_t *pkt,
			      size_t len);

#endif
