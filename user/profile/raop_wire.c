// SPDX-License-Identifier: GPL-2.0-only
/*
 * Profile raop, the wire formats (txpace/raop.h): the retransmit and timing requests a receiver
 * sends, a request cut to the history, NTP time. No state: what the fuzz target and the unit
 * tests call.
 */
#include <errno.h>

#include "txpace/clock.h"
#include "txpace/raop.h"

int raop_parse_resend(const uint8_t *b, size_t len, struct raop_resend *r)
{
	if (len < 8 || (b[0] & 0x7f) != 0x00 || (b[0] & 0x80) != 0x80 ||
	    (b[1] & 0x7f) != (RAOP_RESEND_REQ & 0x7f)) {
		return -EINVAL;
	}
	r->first = (uint16_t)(b[4] << 8 | b[5]);
	r->count = (uint16_t)(b[6] << 8 | b[7]);
	return r->count ? 0 : -EINVAL;
}

size_t raop_resend_clamp(const struct raop_resend *rq, uint16_t newest, size_t held,
			 uint16_t *seqs)
{
	uint16_t oldest;
	size_t n = 0;

	if (held > 65536) {
		held = 65536;
	}
	/*
	 * Walk the history (at most its depth), not the request (up to 65535): both ranges wrap
	 * around the 16-bit space, and their overlap can be two pieces.
	 */
	oldest = (uint16_t)(newest - (held - 1));
	for (size_t i = 0; i < held; i++) {
		uint16_t seq = (uint16_t)(oldest + i);

		if ((uint16_t)(seq - rq->first) < rq->count) {
			seqs[n++] = seq;
		}
	}
	return n;
}

int raop_parse_timing(const uint8_t *b, size_t len, uint64_t *transmit)
{
	if (len < 32 || (b[0] & 0xc0) != 0x80 || (b[1] & 0x7f) != (RAOP_TIMING_REQ & 0x7f)) {
		return -EINVAL;
	}
	*transmit = 0;
	for (int i = 24; i < 32; i++) {
		*transmit = *transmit << 8 | b[i];
	}
	return 0;
}

uint64_t raop_ntp(int64_t ns)
{
	uint64_t secs = (uint64_t)(ns / NSEC_PER_SEC) + 2208988800ull;
	uint64_t frac = ((uint64_t)(ns % NSEC_PER_SEC) << 32) / NSEC_PER_SEC;

	return secs << 32 | frac;
}
