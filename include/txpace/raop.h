/* SPDX-License-Identifier: GPL-2.0-only */
/* AirPlay 1 (RAOP) wire formats: the control and timing packets a receiver sends us. */
#ifndef TXPACE_RAOP_H
#define TXPACE_RAOP_H

#include <stddef.h>
#include <stdint.h>

#define RAOP_TIMING_REQ 0xd2
#define RAOP_TIMING_REPLY 0xd3
#define RAOP_SYNC 0xd4
#define RAOP_RESEND_REQ 0xd5
#define RAOP_RESEND_REPLY 0xd6

struct raop_resend {
	uint16_t first, count;
};

/** Parse a retransmit request (0x80 0xD5, 8 bytes). @return 0 or -EINVAL */
int raop_parse_resend(const uint8_t *b, size_t len, struct raop_resend *r);
/**
 * Cut retransmit request @rq to what the history holds: the @held sequence numbers up to
 * @newest. A request may ask for up to 65535 packets from anywhere in the 16-bit space; only
 * these can be sent again (older ones were overwritten, newer ones never sent).
 * @param seqs room for @held numbers: the ones asked for, oldest first
 * @return how many were written to @seqs (at most rq->count and @held)
 */
size_t raop_resend_clamp(const struct raop_resend *rq, uint16_t newest, size_t held,
			 uint16_t *seqs);
/** Parse a timing request (0x80 0xD2, 32 bytes). @return 0 with its transmit time, or -EINVAL */
int raop_parse_timing(const uint8_t *b, size_t len, uint64_t *transmit);
/** @return the 32.32 NTP time for a CLOCK_REALTIME-like @ns (since 1970) */
uint64_t raop_ntp(int64_t ns);

#endif
