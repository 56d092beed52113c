// SPDX-License-Identifier: GPL-2.0-only
/* RTP module: header write/parse and big-endian linear PCM payloads. */
#include <errno.h>

#include "txpace/rtp.h"

void rtp_write_hdr(uint8_t *b, uint8_t pt, int marker, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	b[0] = 0x80;
	b[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	b[2] = (uint8_t)(seq >> 8);
	b[3] = (uint8_t)seq;
	b[4] = (uint8_t)(ts >> 24);
	b[5] = (uint8_t)(ts >> 16);
	b[6] = (uint8_t)(ts >> 8);
	b[7] = (uint8_t)ts;
	b[8] = (uint8_t)(ssrc >> 24);
	b[9] = (uint8_t)(ssrc >> 16);
	b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int rtp_parse(const uint8_t *b, size_t len, struct rtp_hdr *h)
{
	size_t off, pad = 0;

	if (len < RTP_HDR_LEN) {
		return -EINVAL;
	}
	h->version = b[0] >> 6;
	h->padding = (b[0] >> 5) & 1;
	h->extension = (b[0] >> 4) & 1;
	h->csrc_count = b[0] & 0x0f;
	h->marker = b[1] >> 7;
	h->pt = b[1] & 0x7f;
	h->seq = (uint16_t)(b[2] << 8 | b[3]);
	h->ts = be32(b + 4);
	h->ssrc = be32(b + 8);
	if (h->version != 2) {
		return -EINVAL;
	}
	/* RTCP multiplexed on the port (RFC 5761): second byte 200-204 (PT 72-76 + marker) */
	if (b[1] >= 200 && b[1] <= 204) {
		return -EINVAL;
	}
	off = RTP_HDR_LEN + 4u * h->csrc_count;
	if (off > len) {
		return -EINVAL;
	}
	if (h->extension) {
		size_t words;

		if (off + 4 > len) {
			return -EINVAL;
		}
		words = (size_t)(b[off + 2] << 8 | b[off + 3]);
		off += 4 + 4 * words;
		if (off > len) {
			return -EINVAL;
		}
	}
	if (h->padding) {
		pad = b[len - 1];
		if (pad == 0 || pad > len - off) {
			return -EINVAL;
		}
	}
	h->payload_off = off;
	h->payload_len = len - off - pad;
	return 0;
}

size_t pcm_pack_be(uint8_t *d, const int32_t *s, size_t n, unsigned bits)
{
	if (bits == 16) {
		for (size_t i = 0; i < n; i++) {
			uint32_t v = (uint32_t)s[i];

			d[2 * i] = (uint8_t)(v >> 24);
			d[2 * i + 1] = (uint8_t)(v >> 16);
		}
		return 2 * n;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)s[i];

		d[3 * i] = (uint8_t)(v >> 24);
		d[3 * i + 1] = (uint8_t)(v >> 16);
		d[3 * i + 2] = (uint8_t)(v >> 8);
	}
	return 3 * n;
}
