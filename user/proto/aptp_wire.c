// SPDX-License-Identifier: GPL-2.0-only
/* PTPv2 (IEEE 1588-2008 clause 13) messages for AirPlay's PTP: header, Announce, Sync, Follow_Up. */
#include <errno.h>
#include <string.h>

#include "txpace/aptp.h"
#include "txpace/clock.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* controlField (Table 23): a field for PTPv1 hardware, still set as 1588-2008 says */
static uint8_t control_of(uint8_t type)
{
	switch (type) {
	case APTP_SYNC:
		return 0;
	case APTP_DELAY_REQ:
		return 1;
	case APTP_FOLLOW_UP:
		return 2;
	case APTP_DELAY_RESP:
		return 3;
	case APTP_MANAGEMENT:
		return 4;
	default:
		return 5;
	}
}

size_t aptp_put_hdr(uint8_t *b, const struct aptp_hdr *h)
{
	uint64_t c = (uint64_t)h->correction;

	b[0] = (uint8_t)(h->transport << 4 | (h->type & 0x0f));
	b[1] = h->version & 0x0f;
	put16(b + 2, h->length);
	b[4] = h->domain;
	b[5] = 0;
	put16(b + 6, h->flags);
	put32(b + 8, (uint32_t)(c >> 32));
	put32(b + 12, (uint32_t)c);
	memset(b + 16, 0, 4);
	memcpy(b + 20, h->clock_id, 8);
	put16(b + 28, h->port);
	put16(b + 30, h->seq);
	b[32] = h->control;
	b[33] = (uint8_t)h->log_interval;
	return APTP_HDR_LEN;
}

void aptp_put_ts(uint8_t *b, int64_t ns)
{
	uint64_t s = ns > 0 ? (uint64_t)ns / NSEC_PER_SEC : 0;
	uint32_t frac = ns > 0 ? (uint32_t)((uint64_t)ns % NSEC_PER_SEC) : 0;

	put16(b, (uint16_t)(s >> 32));
	put32(b + 2, (uint32_t)s);
	put32(b + 6, frac);
}

int64_t aptp_get_ts(const uint8_t *b)
{
	uint64_t s = (uint64_t)get16(b) << 32 | get32(b + 2);

	/* 48-bit seconds: beyond int64 ns after 292 years; saturate rather than wrap */
	if (s > (uint64_t)(INT64_MAX / NSEC_PER_SEC) - 1) {
		return INT64_MAX;
	}
	return (int64_t)s * NSEC_PER_SEC + get32(b + 6);
}

static void start(uint8_t *b, const struct aptp_hdr *h, uint8_t type, uint16_t len)
{
	struct aptp_hdr x = *h;

	x.type = type;
	x.length = len;
	x.control = control_of(type);
	x.version = 2;
	aptp_put_hdr(b, &x);
}

size_t aptp_build_announce(uint8_t *b, const struct aptp_hdr *h, const struct aptp_announce *an)
{
	uint8_t *p = b + APTP_HDR_LEN;

	start(b, h, APTP_ANNOUNCE, APTP_ANNOUNCE_LEN);
	aptp_put_ts(p, 0);		/* originTimestamp: 0 is allowed (13.5.2.1) */
	put16(p + 10, (uint16_t)an->utc_offset);
	p[12] = 0;			/* reserved */
	p[13] = an->priority1;
	p[14] = an->clock_class;
	p[15] = an->clock_accuracy;
	put16(p + 16, an->variance);
	p[18] = an->priority2;
	memcpy(p + 19, an->gm_id, 8);
	put16(p + 27, an->steps_removed);
	p[29] = an->time_source;
	return APTP_ANNOUNCE_LEN;
}

size_t aptp_build_sync(uint8_t *b, const struct aptp_hdr *h, int64_t origin_ns)
{
	start(b, h, APTP_SYNC, APTP_SYNC_LEN);
	aptp_put_ts(b + APTP_HDR_LEN, origin_ns);
	return APTP_SYNC_LEN;
}

size_t aptp_build_follow_up(uint8_t *b, const struct aptp_hdr *h, int64_t precise_origin_ns)
{
	uint8_t *t = b + APTP_HDR_LEN + 10;

	start(b, h, APTP_FOLLOW_UP, APTP_FOLLOW_UP_LEN);
	aptp_put_ts(b + APTP_HDR_LEN, precise_origin_ns);
	/*
	 * IEEE 802.1AS Follow_Up information TLV (11.4.4.3), which gPTP slaves (Apple's among
	 * them) expect: ORGANIZATION_EXTENSION, IEEE 802.1 (00-80-C2), subtype 1; a grandmaster
	 * that never changed phase or frequency says zeros.
	 */
	memset(t, 0, 32);
	put16(t, 0x0003);
	put16(t + 2, 28);
	t[4] = 0x00;
	t[5] = 0x80;
	t[6] = 0xc2;
	t[9] = 0x01;
	return APTP_FOLLOW_UP_LEN;
}

int aptp_parse(const uint8_t *b, size_t len, struct aptp_hdr *h, struct aptp_announce *an)
{
	const uint8_t *p = b + APTP_HDR_LEN;

	if (len < APTP_HDR_LEN || (b[1] & 0x0f) != 2) {
		return -EINVAL;
	}
	h->type = b[0] & 0x0f;
	h->transport = b[0] >> 4;
	h->version = b[1] & 0x0f;
	h->length = get16(b + 2);
	if (h->length < APTP_HDR_LEN || h->length > len) {
		return -EINVAL;
	}
	h->domain = b[4];
	h->flags = get16(b + 6);
	h->correction = (int64_t)((uint64_t)get32(b + 8) << 32 | get32(b + 12));
	memcpy(h->clock_id, b + 20, 8);
	h->port = get16(b + 28);
	h->seq = get16(b + 30);
	h->control = b[32];
	h->log_interval = (int8_t)b[33];
	if (!an || h->type != APTP_ANNOUNCE) {
		return 0;
	}
	if (h->length < APTP_ANNOUNCE_LEN) {
		return -EINVAL;
	}
	an->utc_offset = (int16_t)get16(p + 10);
	an->priority1 = p[13];
	an->clock_class = p[14];
	an->clock_accuracy = p[15];
	an->variance = get16(p + 16);
	an->priority2 = p[18];
	memcpy(an->gm_id, p + 19, 8);
	an->steps_removed = get16(p + 27);
	an->time_source = p[29];
	return 0;
}

void aptp_eui64(const uint8_t mac[6], uint8_t id[8])
{
	/* 1588-2008 7.5.2.2.2: OUI, ff fe, the rest (no U/L bit flip: that is IPv6's variant) */
	id[0] = mac[0];
	id[1] = mac[1];
	id[2] = mac[2];
	id[3] = 0xff;
	id[4] = 0xfe;
	id[5] = mac[3];
	id[6] = mac[4];
	id[7] = mac[5];
}
