// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target for AirPlay 2 control-port packets: 0xD5 resend requests, 0xD7 anchors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/ap2ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ap2ctl_rx_counts c = { 0 };
	struct ap2ctl_resend rq;
	struct ap2ctl_anchor an;
	uint8_t out[2048];
	int n;

	if (ap2ctl_parse_resend(data, size, &rq, &c) == 0 &&
	    (size != 8 || data[0] != 0x80 || data[1] != 0xd5 || !rq.count || c.resend_reqs != 1)) {
		abort();
	}
	/* exactly one counter moved, accepted or not */
	if (c.resend_reqs + c.bad_length + c.bad_header + c.zero_count + c.other_type != 1) {
		abort();
	}
	if (ap2ctl_parse_anchor(data, size, &an) == 0) {
		uint8_t b[AP2CTL_ANCHOR_LEN];

		/*
		 * what parses builds back to the same 28 bytes (bytes 2-3 are ours: 00 07; f2 = f1,
		 * a latency of 0, is what a build takes for "the default")
		 */
		ap2ctl_build_anchor(b, &an);
		if (size < 28 || b[0] != data[0] ||
		    (an.latency && memcmp(b + 4, data + 4, 24))) {
			abort();
		}
	}
	n = ap2ctl_build_resend_reply(out, sizeof(out), 1, data, size);
	if (n >= 0 && ((size_t)n != size + 4 || memcmp(out + 4, data, size))) {
		abort();
	}
	if (n < 0 && size + 4 <= sizeof(out)) {
		abort();
	}
	return 0;
}
