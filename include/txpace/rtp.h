/* SPDX-License-Identifier: GPL-2.0-only */
/* RTP (RFC 3550) header packing and parsing, and L16/L24 (RFC 3190) payload packing. */
#ifndef TXPACE_RTP_H
#define TXPACE_RTP_H

#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_LEN 12

struct rtp_hdr {
	uint8_t version, padding, extension, csrc_count, marker, pt;
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t payload_off, payload_len;
};

/** Write a 12-byte RTP header (version 2, no CSRC, no extension) into @buf. */
void rtp_write_hdr(uint8_t *buf, uint8_t pt, int marker, uint16_t seq, uint32_t ts, uint32_t ssrc);
/**
 * Parse an RTP packet from the network: CSRCs, header extension and padding accounted for.
 * @return 0, or -EINVAL for anything that is not a well-formed RTP version 2 packet
 */
int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *out);
/**
 * Pack @n interleaved samples (signed, left-justified in 32 bits) big-endian at @bits (16 or 24).
 * @return bytes written (n * bits / 8)
 */
size_t pcm_pack_be(uint8_t *dst, const int32_t *src, size_t n, unsigned bits);

#endif
