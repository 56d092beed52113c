// SPDX-License-Identifier: GPL-2.0-only
/* AirPlay 2 control-port packets: the 0xD7 anchor, the 0xD5 resend request, the 0xD6 answer. */
#include <errno.h>
#include <string.h>

#include "txpace/ap2ctl.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t ap2ctl_build_anchor(uint8_t *b, const struct ap2ctl_anchor *an)
{
	uint32_t latency = an->latency ? an->latency : AP2CTL_LATENCY_FRAMES;

	/*
	 * Bytes 2-3 are not read by shairport-sync; 0x0007 as in RAOP's sync. Byte 0's 0x10 bit
	 * marks the first anchor: shairport-sync drops anchors without it for 2 ms after the
	 * session's start, taking them for leftovers of an earlier session.
	 */
	b[0] = an->first ? 0x90 : 0x80;
	b[1] = AP2CTL_ANCHOR;
	b[2] = 0x00;
	b[3] = 0x07;
	put32(b + 4, an->rtp);
	put32(b + 8, (uint32_t)(an->ptp_ns >> 32));
	put32(b + 12, (uint32_t)an->ptp_ns);
	put32(b + 16, an->rtp + latency);
	memcpy(b + 20, an->clock_id, 8);
	return AP2CTL_ANCHOR_LEN;
}

int ap2ctl_parse_anchor(const uint8_t *b, size_t len, struct ap2ctl_anchor *an)
{
	if (len < AP2CTL_ANCHOR_LEN || b[1] != AP2CTL_ANCHOR || (b[0] & 0xef) != 0x80) {
		return -EINVAL;
	}
	an->first = (b[0] & 0x10) != 0;
	an->rtp = get32(b + 4);
	an->ptp_ns = (uint64_t)get32(b + 8) << 32 | get32(b + 12);
	an->latency = get32(b + 16) - an->rtp;
	memcpy(an->clock_id, b + 20, 8);
	return 0;
}

int ap2ctl_parse_resend(const uint8_t *b, size_t len, struct ap2ctl_resend *rq,
			struct ap2ctl_rx_counts *c)
{
	struct ap2ctl_rx_counts dummy;

	if (!c) {
		c = &dummy;
	}
	if (len < 2 || b[1] != AP2CTL_RESEND_REQ) {
		c->other_type++;
		return -EINVAL;
	}
	if (len != AP2CTL_RESEND_REQ_LEN) {
		c->bad_length++;
		return -EINVAL;
	}
	if (b[0] != 0x80) {
		c->bad_header++;
		return -EINVAL;
	}
	rq->first = (uint16_t)(b[4] << 8 | b[5]);
	rq->count = (uint16_t)(b[6] << 8 | b[7]);
	if (!rq->count) {
		c->zero_count++;
		return -EINVAL;
	}
	c->resend_reqs++;
	return 0;
}

int ap2ctl_build_resend_reply(uint8_t *out, size_t cap, uint16_t seq, const uint8_t *pkt,
			      size_t len)
{
	if (cap < AP2CTL_RESEND_HDR || len > cap - AP2CTL_RESEND_HDR || len > 65535) {
		return -ENOSPC;
	}
	out[0] = 0x80;
	out[1] = AP2CTL_RESEND_REPLY;
	out[2] = (uint8_t)(seq >> 8);
	out[3] = (uint8_t)seq;
	memmove(out + AP2CTL_RESEND_HDR, pkt, len);
	return (int)(len + AP2CTL_RESEND_HDR);
}
